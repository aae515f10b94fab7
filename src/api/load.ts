/** Reading Tenants from YAML or JSON text (files, stdin), with line numbers for syntax errors. */
import { parseAllDocuments } from 'yaml';
import { type ValidationIssue, validateTenant } from './validate.ts';
import type { Tenant } from './tenant.ts';

export interface LoadedDocument {
  /** 1-based position of the document in the stream. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
  result: { ok: true; tenant: Tenant } | { ok: false; issues: ValidationIssue[] };
}

export class YamlSyntaxError extends Error {
  readonly source: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(
    source: string,
    line: number | undefined,
    column: number | undefined,
    detail: string,
    cause?: unknown,
  ) {
    const where =
      line === undefined ? source : `${source}:${line}${column === undefined ? '' : `:${column}`}`;
    super(`${where}: YAML syntax error: ${detail}`, { cause });
    this.name = 'YamlSyntaxError';
    this.source = source;
    this.line = line;
    this.column = column;
  }
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function listItems(value: unknown): unknown[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { apiVersion, kind, items } = value as Record<string, unknown>;
  return apiVersion === 'v1' && kind === 'List' && Array.isArray(items) ? items : undefined;
}

/**
 * Parses every document in `text` (the items of a `v1` `List` each count as one) and validates each as a Tenant. Empty documents are skipped.
 * Throws `YamlSyntaxError` (with line and column) when the text is not valid YAML.
 */
export function loadTenants(text: string, source: string): LoadedDocument[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const out: LoadedDocument[] = [];
  let index = 0;
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) {
      const pos = error.linePos?.[0];
      throw new YamlSyntaxError(
        source,
        pos?.line,
        pos?.col,
        error.message.split(/ at line \d+, column \d+/)[0] ?? error.message,
        error,
      );
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    const line = lineOf(text, doc.contents?.range?.[0] ?? doc.range[0]);
    // `kubectl get tenants -o yaml` prints a v1 List: each item counts as a document of its own.
    for (const item of listItems(value) ?? [value]) {
      index++;
      out.push({ index, line, result: validateTenant(item) });
    }
  }
  return out;
}

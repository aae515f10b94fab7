/** Validation of Tenant objects with every problem reported by its field path. */
import type { z } from 'zod';
import { type Tenant, checkNameIsTenantId, tenant } from './tenant.ts';

export interface ValidationIssue {
  /** Field path such as `spec.server.env[0].value`; empty for the object itself. */
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; tenant: Tenant } | { ok: false; issues: ValidationIssue[] };

export class TenantValidationError extends Error {
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[], options?: { cause?: unknown }) {
    super(`invalid Tenant:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`, options);
    this.name = 'TenantValidationError';
    this.issues = issues;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment))
      out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

export function formatIssue(issue: ValidationIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

function toIssues(error: z.ZodError): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({
          path: formatPath([...issue.path, key]),
          message: 'unknown field (check the spelling; see `kubectl explain tenant.spec`)',
        });
      }
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest rather than "invalid input".
      const best = issue.errors.reduce((a, b) => (b.length > 0 && b.length <= a.length ? b : a));
      for (const inner of best)
        issues.push({ path: formatPath([...issue.path, ...inner.path]), message: inner.message });
    } else {
      issues.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return dedupe(issues);
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = formatIssue(i);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The input as the API server keeps it: a field set to `null` is dropped (a CRD prunes nulls of
 * fields that are not nullable, and none of the Tenant's is), so `displayName: null` means unset.
 * Array items are kept: a `null` item is refused by both.
 */
export function withoutNullFields(input: unknown): unknown {
  if (Array.isArray(input)) return input.map(withoutNullFields);
  if (typeof input !== 'object' || input === null) return input;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value !== null) out[key] = withoutNullFields(value);
  }
  return out;
}

export function validateTenant(raw: unknown): ValidationResult {
  const input = withoutNullFields(raw);
  const result = tenant.safeParse(input);
  const nameProblem = checkNameIsTenantId(input);
  const issues = [
    ...(nameProblem ? [{ path: 'metadata.name', message: nameProblem }] : []),
    ...(result.success ? [] : toIssues(result.error)),
  ];
  if (result.success && issues.length === 0) return { ok: true, tenant: result.data };
  return { ok: false, issues };
}

/** Parses or throws a `TenantValidationError` listing every problem. */
export function parseTenant(input: unknown): Tenant {
  const result = validateTenant(input);
  if (!result.ok) throw new TenantValidationError(result.issues);
  return result.tenant;
}

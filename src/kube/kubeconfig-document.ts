/**
 * The kubeconfig file format (`apiVersion: v1, kind: Config`), read into plain typed records.
 * Only the fields the operator acts on are typed; a field it would have to honour but does not
 * support (`auth-provider`, `proxy-url`) is refused when its context is used, never ignored.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { KubeconfigInvalidError } from './kubeconfig-errors.ts';

// The YAML library is loaded on the first kubeconfig parsed: an operator in a pod reads none, and
// keeps the ~12 MiB of resident memory it costs (docs/design.md, "Idle memory").
const load = createRequire(import.meta.url);
let yaml: typeof Yaml | undefined;
const parseYaml = (text: string): unknown => (yaml ??= load('yaml') as typeof Yaml).parse(text);

export interface KubeconfigCluster {
  server: string;
  certificateAuthority?: string;
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

export interface ExecEnvVar {
  name: string;
  value: string;
}

export interface KubeconfigExec {
  apiVersion: string;
  command: string;
  args: string[];
  env: ExecEnvVar[];
  installHint?: string;
  provideClusterInfo: boolean;
}

export interface KubeconfigUser {
  clientCertificate?: string;
  clientCertificateData?: string;
  clientKey?: string;
  clientKeyData?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: KubeconfigExec;
  /** Only its name: legacy auth providers are refused. */
  authProvider?: string;
}

export interface KubeconfigContext {
  cluster: string;
  user: string;
  namespace?: string;
}

export interface Named<T> {
  name: string;
  value: T;
}

export interface KubeconfigDocument {
  clusters: Array<Named<KubeconfigCluster>>;
  users: Array<Named<KubeconfigUser>>;
  contexts: Array<Named<KubeconfigContext>>;
  currentContext?: string;
  /** Where each named entry came from, for error messages (a merge spans several files). */
  origin: string;
}

/** The file-path fields of a user or cluster: resolved against the file's directory, refused in a Secret. */
export const PATH_FIELDS = {
  cluster: ['certificate-authority'],
  user: ['client-certificate', 'client-key', 'tokenFile'],
} as const;

type Raw = Record<string, unknown>;

class FieldReader {
  readonly origin: string;
  readonly prefix: string;
  readonly raw: Raw;

  constructor(origin: string, prefix: string, raw: Raw) {
    this.origin = origin;
    this.prefix = prefix;
    this.raw = raw;
  }

  #fail(field: string, problem: string): never {
    throw new KubeconfigInvalidError(this.origin, `${this.prefix}${field} ${problem}`, {
      field: `${this.prefix}${field}`,
    });
  }

  string(field: string): string | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') this.#fail(field, `must be a string, got ${typeof v}`);
    return v;
  }

  requiredString(field: string): string {
    return this.string(field) ?? this.#fail(field, 'is required');
  }

  boolean(field: string): boolean | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.#fail(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  object(field: string): FieldReader | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) this.#fail(field, 'must be a mapping');
    return new FieldReader(this.origin, `${this.prefix}${field}.`, v as Raw);
  }

  list(field: string): FieldReader[] {
    const v = this.raw[field];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.#fail(field, 'must be a list');
    return v.map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        this.#fail(`${field}[${i}]`, 'must be a mapping');
      return new FieldReader(this.origin, `${this.prefix}${field}[${i}].`, item as Raw);
    });
  }

  stringList(field: string): string[] {
    const v = this.raw[field];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
      this.#fail(field, 'must be a list of strings');
    return v as string[];
  }
}

function named<T>(
  doc: FieldReader,
  listField: string,
  itemField: string,
  read: (r: FieldReader) => T,
): Array<Named<T>> {
  return doc.list(listField).map((entry) => {
    const name = entry.requiredString('name');
    const body = entry.object(itemField);
    if (!body) {
      throw new KubeconfigInvalidError(
        doc.origin,
        `${entry.prefix}${itemField} is required (for "${name}")`,
        {
          field: `${entry.prefix}${itemField}`,
        },
      );
    }
    return { name, value: read(body) };
  });
}

function readCluster(r: FieldReader): KubeconfigCluster {
  return dropUndefined({
    server: r.requiredString('server'),
    certificateAuthority: r.string('certificate-authority'),
    certificateAuthorityData: r.string('certificate-authority-data'),
    insecureSkipTlsVerify: r.boolean('insecure-skip-tls-verify'),
    tlsServerName: r.string('tls-server-name'),
    proxyUrl: r.string('proxy-url'),
  });
}

function readExec(r: FieldReader): KubeconfigExec {
  return dropUndefined({
    apiVersion: r.requiredString('apiVersion'),
    command: r.requiredString('command'),
    args: r.stringList('args'),
    env: r.list('env').map((e) => ({ name: e.requiredString('name'), value: e.string('value') ?? '' })),
    installHint: r.string('installHint'),
    provideClusterInfo: r.boolean('provideClusterInfo') ?? false,
  });
}

function readUser(r: FieldReader): KubeconfigUser {
  const exec = r.object('exec');
  const authProvider = r.object('auth-provider');
  return dropUndefined({
    clientCertificate: r.string('client-certificate'),
    clientCertificateData: r.string('client-certificate-data'),
    clientKey: r.string('client-key'),
    clientKeyData: r.string('client-key-data'),
    token: r.string('token'),
    tokenFile: r.string('tokenFile'),
    username: r.string('username'),
    password: r.string('password'),
    exec: exec ? readExec(exec) : undefined,
    authProvider: authProvider ? (authProvider.string('name') ?? 'unnamed') : undefined,
  });
}

function readContext(r: FieldReader): KubeconfigContext {
  return dropUndefined({
    cluster: r.requiredString('cluster'),
    user: r.requiredString('user'),
    namespace: r.string('namespace'),
  });
}

/**
 * Parses kubeconfig text (YAML or JSON). With `baseDir`, relative file paths are resolved against
 * it, as kubectl resolves them against the file's directory.
 */
export function parseKubeconfig(text: string, origin: string, baseDir?: string): KubeconfigDocument {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new KubeconfigInvalidError(origin, `it is not valid YAML (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new KubeconfigInvalidError(origin, 'it is not a mapping (expected `kind: Config`)');
  }
  const doc = new FieldReader(origin, '', raw as Raw);
  const kind = doc.string('kind');
  if (kind !== undefined && kind !== 'Config') {
    throw new KubeconfigInvalidError(origin, `kind is "${kind}", expected "Config"`, { field: 'kind' });
  }
  const clusters = named(doc, 'clusters', 'cluster', readCluster);
  const users = named(doc, 'users', 'user', readUser);
  const contexts = named(doc, 'contexts', 'context', readContext);
  if (baseDir !== undefined) {
    const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(baseDir, p));
    for (const { value } of clusters) {
      if (value.certificateAuthority) value.certificateAuthority = resolve(value.certificateAuthority);
    }
    for (const { value } of users) {
      if (value.clientCertificate) value.clientCertificate = resolve(value.clientCertificate);
      if (value.clientKey) value.clientKey = resolve(value.clientKey);
      if (value.tokenFile) value.tokenFile = resolve(value.tokenFile);
      // A bare command name is looked up on PATH; only a path with a separator is file-relative.
      if (value.exec && value.exec.command.includes('/')) value.exec.command = resolve(value.exec.command)!;
    }
  }
  const currentContext = doc.string('current-context');
  return { clusters, users, contexts, ...(currentContext ? { currentContext } : {}), origin };
}

/**
 * kubectl's merge of a `$KUBECONFIG` list: the first file to define a name wins, and the first
 * file to set `current-context` sets it.
 */
export function mergeKubeconfigs(docs: KubeconfigDocument[]): KubeconfigDocument {
  const mergeNamed = <T>(lists: Array<Array<Named<T>>>): Array<Named<T>> => {
    const seen = new Set<string>();
    const out: Array<Named<T>> = [];
    for (const list of lists) {
      for (const entry of list) {
        if (seen.has(entry.name)) continue;
        seen.add(entry.name);
        out.push(entry);
      }
    }
    return out;
  };
  const currentContext = docs.find((d) => d.currentContext)?.currentContext;
  return {
    clusters: mergeNamed(docs.map((d) => d.clusters)),
    users: mergeNamed(docs.map((d) => d.users)),
    contexts: mergeNamed(docs.map((d) => d.contexts)),
    ...(currentContext ? { currentContext } : {}),
    origin: docs.map((d) => d.origin).join(path.delimiter),
  };
}

function dropUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as Array<keyof T>) if (value[key] === undefined) delete value[key];
  return value;
}

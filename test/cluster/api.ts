// A minimal HTTPS client for the cluster bootstrap and health checks: client
// certificate auth against the local API server, JSON in and out. Tests and
// the operator use kubectl or the project's own client in src/kube instead.
import { readFileSync } from 'node:fs';
import { type Agent, request } from 'node:https';

export interface ApiResponse {
  status: number;
  body: string;
}

export interface ApiClient {
  readonly server: string;
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse>;
  getJson<T>(path: string): Promise<T | undefined>;
}

export interface TlsFiles {
  caCert: string;
  cert?: string;
  key?: string;
}

interface Connection {
  ca: Buffer;
  cert: Buffer | undefined;
  key: Buffer | undefined;
  /** A keep-alive pool; without one every request opens its own connection. */
  agent: Agent | false;
  userAgent: string | undefined;
  timeoutMs: number;
}

function connect(
  tls: TlsFiles,
  options: { agent?: Agent; userAgent?: string; timeoutMs: number },
): Connection {
  return {
    ca: readFileSync(tls.caCert),
    cert: tls.cert === undefined ? undefined : readFileSync(tls.cert),
    key: tls.key === undefined ? undefined : readFileSync(tls.key),
    agent: options.agent ?? false,
    userAgent: options.userAgent,
    timeoutMs: options.timeoutMs,
  };
}

export function httpsGet(url: string, tls: TlsFiles, timeoutMs = 5_000): Promise<ApiResponse> {
  return send(connect(tls, { timeoutMs }), 'GET', url);
}

function send(
  connection: Connection,
  method: string,
  url: string,
  body?: unknown,
  contentType?: string,
): Promise<ApiResponse> {
  const { ca, cert, key, agent, userAgent, timeoutMs } = connection;
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca,
        cert,
        key,
        agent,
        timeout: timeoutMs,
        headers: {
          accept: 'application/json',
          ...(userAgent === undefined ? {} : { 'user-agent': userAgent }),
          ...(payload === undefined
            ? {}
            : {
                'content-type': contentType ?? 'application/json',
                'content-length': Buffer.byteLength(payload),
              }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export function createApiClient(options: {
  server: string;
  tls: TlsFiles;
  timeoutMs?: number;
  /** Share connections through this pool (e.g. a keep-alive `https.Agent`). */
  agent?: Agent;
  /** Sent as User-Agent, so the audit log tells this client's requests apart. */
  userAgent?: string;
}): ApiClient {
  const connection = connect(options.tls, {
    timeoutMs: options.timeoutMs ?? 10_000,
    ...(options.agent ? { agent: options.agent } : {}),
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
  });
  const client: ApiClient = {
    server: options.server,
    request: (method, path, body, contentType) =>
      send(connection, method, `${options.server}${path}`, body, contentType),
    async getJson<T>(path: string): Promise<T | undefined> {
      const res = await client.request('GET', path);
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
      return JSON.parse(res.body) as T;
    },
  };
  return client;
}

/** Creates an object; an existing one (409) is left as it is. */
export async function createIfMissing(
  client: ApiClient,
  collectionPath: string,
  object: unknown,
): Promise<void> {
  const res = await client.request('POST', collectionPath, object);
  if (res.status === 201 || res.status === 200 || res.status === 409) return;
  throw new Error(`POST ${collectionPath}: HTTP ${res.status}: ${res.body.slice(0, 500)}`);
}

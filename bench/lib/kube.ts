// A small HTTPS client for the benchmarks: the admin client certificate of the local control
// plane, one keep-alive connection pool, JSON in and out. Its user agent (`neurallog-bench`)
// keeps the benchmark's own requests apart from the operator's in the audit log.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

export const BENCH_USER_AGENT = 'neurallog-bench';

export interface BenchTls {
  caCert: string;
  adminCert: string;
  adminKey: string;
}

export interface BenchResponse {
  status: number;
  body: string;
}

export interface BenchKube {
  request(method: string, path: string, body?: unknown): Promise<BenchResponse>;
  getJson<T>(path: string): Promise<T>;
  close(): void;
}

export function createBenchKube(server: string, tls: BenchTls, timeoutMs = 30_000): BenchKube {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 16,
    ca: readFileSync(tls.caCert),
    cert: readFileSync(tls.adminCert),
    key: readFileSync(tls.adminKey),
  });
  const send = (method: string, path: string, body?: unknown): Promise<BenchResponse> => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        `${server}${path}`,
        {
          method,
          agent,
          timeout: timeoutMs,
          headers: {
            accept: 'application/json',
            'user-agent': BENCH_USER_AGENT,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
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
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  };
  // 429 (e.g. "storage is (re)initializing" just after a CRD is installed): wait and retry.
  const sendWithRetry = async (method: string, path: string, body?: unknown): Promise<BenchResponse> => {
    for (let attempt = 0; ; attempt++) {
      const res = await send(method, path, body);
      if (res.status !== 429 || attempt >= 30) return res;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  return {
    request: sendWithRetry,
    async getJson<T>(path: string): Promise<T> {
      const res = await sendWithRetry('GET', path);
      if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
      return JSON.parse(res.body) as T;
    },
    close: () => agent.destroy(),
  };
}

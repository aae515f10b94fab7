// A small HTTPS client for the benchmarks: the local control plane's API client over one
// keep-alive connection pool, with a user agent (`neurallog-bench`) that keeps the benchmark's
// own requests apart from the operator's in the audit log.
import { Agent } from 'node:https';
import { type ApiResponse, createApiClient } from '../../test/cluster/api.ts';

export const BENCH_USER_AGENT = 'neurallog-bench';

export interface BenchTls {
  caCert: string;
  adminCert: string;
  adminKey: string;
}

export type BenchResponse = ApiResponse;

export interface BenchKube {
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<BenchResponse>;
  getJson<T>(path: string): Promise<T>;
  close(): void;
}

export function createBenchKube(
  server: string,
  tls: BenchTls,
  timeoutMs = 30_000,
  userAgent = BENCH_USER_AGENT,
): BenchKube {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const api = createApiClient({
    server,
    tls: { caCert: tls.caCert, cert: tls.adminCert, key: tls.adminKey },
    timeoutMs,
    agent,
    userAgent,
  });
  // 429 (e.g. "storage is (re)initializing" just after a CRD is installed): wait and retry.
  const sendWithRetry = async (
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<BenchResponse> => {
    for (let attempt = 0; ; attempt++) {
      const res = await api.request(method, path, body, contentType);
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

/**
 * The operator's two small HTTP servers: health probes (`/healthz`,
 * `/readyz`) and Prometheus metrics (`/metrics`). Bind addresses follow
 * controller-runtime: `:8080` (all interfaces), `127.0.0.1:8080`,
 * `[::1]:8080`, port 0 for any free port, and `0` alone to disable.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

// Not imported: the ES module namespace of node:http would load Node's bundled undici (see
// src/http/client.ts).
const { createServer } = process.getBuiltinModule('node:http');

export interface BindAddress {
  /** undefined: every interface. */
  host: string | undefined;
  port: number;
}

/** A bind address that cannot be parsed. */
export class InvalidBindAddressError extends Error {
  constructor(address: string, reason: string) {
    super(
      `invalid bind address "${address}": ${reason}. ` +
        `Use ":8080", "127.0.0.1:8080" or "[::1]:8080", or "0" to disable the server.`,
    );
    this.name = 'InvalidBindAddressError';
  }
}

/** A server could not listen (address in use, permission denied, unknown host). */
export class BindError extends Error {
  constructor(purpose: string, address: string, options: { cause: unknown }) {
    const code = (options.cause as NodeJS.ErrnoException | undefined)?.code;
    const why = code === 'EADDRINUSE' ? 'the address is already in use' : String(options.cause);
    super(
      `the ${purpose} server could not listen on "${address}": ${why}. ` +
        `Choose another address with its --*-bind-address flag, or "0" to disable it.`,
      options,
    );
    this.name = 'BindError';
  }
}

/** Parse a bind address; `undefined` means the server is disabled (`"0"`). */
export function parseBindAddress(address: string): BindAddress | undefined {
  const trimmed = address.trim();
  if (trimmed === '0') return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(trimmed);
  if (match === null) throw new InvalidBindAddressError(address, 'expected host:port or :port');
  const port = Number(match[3]);
  if (port > 65535) throw new InvalidBindAddressError(address, `port ${port} is above 65535`);
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}

export interface RunningServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** The host actually bound, e.g. `127.0.0.1` or `::`. */
  readonly host: string;
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

/** One health check: true means healthy. A check that throws counts as failed. */
export type HealthCheck = () => boolean | Promise<boolean>;
/** One check, or several named ones (all must pass). */
export type HealthChecks = HealthCheck | Readonly<Record<string, HealthCheck>>;

export interface ProbeServerOptions {
  address: string;
  checks: { healthz: HealthChecks; readyz: HealthChecks };
  logger?: Logger;
}

/**
 * Serve `/healthz` and `/readyz`: 200 `ok`, or 500 naming each failing check
 * (`[-]<name> failed`). Resolves `undefined` when the address is `"0"`.
 */
export async function startProbeServer(options: ProbeServerOptions): Promise<RunningServer | undefined> {
  const endpoints = new Map<string, [string, HealthChecks]>([
    ['/healthz', ['healthz', options.checks.healthz]],
    ['/readyz', ['readyz', options.checks.readyz]],
  ]);
  return listen('health probe', options.address, options.logger, async (req, res) => {
    const endpoint = endpoints.get(pathOf(req));
    if (endpoint === undefined) return sendText(req, res, 404, 'not found\n');
    if (!allowRead(req, res)) return;
    const [endpointName, checks] = endpoint;
    const failures = await runChecks(endpointName, checks);
    if (failures.length === 0) return sendText(req, res, 200, 'ok');
    const lines = failures.map((f) => `[-]${f.name} failed${f.reason === undefined ? '' : `: ${f.reason}`}`);
    sendText(req, res, 500, `${lines.join('\n')}\n${endpointName} check failed\n`);
  });
}

export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsServerOptions {
  address: string;
  /** A prom-client Registry (or anything that renders the text format). */
  registry: MetricsSource;
  logger?: Logger;
}

/** Serve `/metrics` in the registry's exposition format. Resolves `undefined` when the address is `"0"`. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<RunningServer | undefined> {
  const { registry, logger } = options;
  return listen('metrics', options.address, logger, async (req, res) => {
    if (pathOf(req) !== '/metrics') return sendText(req, res, 404, 'not found\n');
    if (!allowRead(req, res)) return;
    let body: string;
    try {
      body = await registry.metrics();
    } catch (error) {
      logger?.error({ err: error }, 'collecting metrics failed');
      return sendText(req, res, 500, 'collecting metrics failed\n');
    }
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

async function listen(
  purpose: string,
  address: string,
  logger: Logger | undefined,
  handler: Handler,
): Promise<RunningServer | undefined> {
  const bind = parseBindAddress(address);
  if (bind === undefined) {
    logger?.info({ server: purpose }, `${purpose} server disabled`);
    return undefined;
  }
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      logger?.error({ err: error, server: purpose, path: req.url }, 'request handler failed');
      if (!res.headersSent) sendText(req, res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(new BindError(purpose, address, { cause: error }));
    server.once('error', onError);
    server.listen({ host: bind.host, port: bind.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => logger?.error({ err: error, server: purpose }, 'server error'));
  const bound = server.address() as AddressInfo;
  logger?.info({ server: purpose, host: bound.address, port: bound.port }, `${purpose} server listening`);
  return { port: bound.port, host: bound.address, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => {
      // Closing an already closed server is not a failure for our callers.
      if (error !== undefined && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING')
        reject(error);
      else resolve();
    });
    server.closeAllConnections();
  });
}

interface CheckFailure {
  name: string;
  reason?: string;
}

async function runChecks(endpointName: string, checks: HealthChecks): Promise<CheckFailure[]> {
  const named: Array<[string, HealthCheck]> =
    typeof checks === 'function' ? [[endpointName, checks]] : Object.entries(checks);
  const results = await Promise.all(
    named.map(async ([name, check]) => {
      try {
        return (await check()) === true ? undefined : { name };
      } catch (error) {
        return { name, reason: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  return results.filter((r) => r !== undefined);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function allowRead(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  res.setHeader('Allow', 'GET, HEAD');
  sendText(req, res, 405, 'method not allowed\n');
  return false;
}

function sendText(req: IncomingMessage, res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * A local stand-in for the NeuralLog Auth service, for tests and the demo.
 * Test tooling only: nothing under src/ may import it.
 *
 * Contract (SPEC §5), kept in memory:
 *   GET    /api/tenants        → 200 {"tenants": [...]}
 *   POST   /api/tenants        → 201 {"tenantId", "adminUserId"} | 409 (exists) | 400 (bad body)
 *   DELETE /api/tenants/:id    → 200 {"tenantId", "deleted": true} | 404
 *   anything else under /api   → 404; wrong method on a known path → 405
 *   missing/wrong bearer token when `requiredToken` is set → 401
 *
 * Switches (`setMode` or `POST /__peer/mode {"mode": ...}`) apply to /api requests:
 *   ok          — the contract above
 *   fail500     — 500 {"error": "..."}
 *   hang        — never answers; held requests are answered once the mode changes
 *                 (if their client is still connected) and dropped on stop()/close()
 *   malformed   — 200 text/html "<html>…" (not JSON)
 *   wrong-shape — 200 JSON of the wrong shape ({"items": [...]})
 *   redirect    — 307 to http://<host>:<port>/moved<path>
 * "Down" is stop(): the listener closes and connections are dropped; start() re-opens
 * on the same port. Answers carry `Connection: close` unless `keepAlive` is set.
 *
 * Admin endpoints (never recorded, never need the token, never affected by the mode):
 *   GET  /__peer/calls   → {"calls": [...]}
 *   GET  /__peer/state   → {"mode", "tenants", "requiresToken"}
 *   POST /__peer/mode    {"mode"}            → 200 | 400
 *   POST /__peer/token   {"token": string|null}
 *   POST /__peer/tenants {"tenants": [...]}  (replace the registered set)
 *   POST /__peer/reset   → calls and tenants cleared, mode ok
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PEER_MODES = ['ok', 'fail500', 'hang', 'malformed', 'wrong-shape', 'redirect'] as const;
export type PeerMode = (typeof PEER_MODES)[number];

export interface PeerCall {
  /** 1-based sequence number since the last reset. */
  seq: number;
  method: string;
  /** Path and query as received. */
  path: string;
  /** Parsed JSON body, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
  /** The Authorization header, if any. */
  authorization: string | undefined;
  /** ISO time the request arrived. */
  time: string;
  /** Mode in force when the request arrived. */
  mode: PeerMode;
  /** Status answered; undefined while held (hang) or when dropped. */
  status: number | undefined;
}

export interface AuthPeerOptions {
  /** 0 or absent: pick a free port (kept across stop()/start()). */
  port?: number;
  host?: string;
  /** When set, /api requests need `Authorization: Bearer <requiredToken>` (else 401). */
  requiredToken?: string | undefined;
  /** Tenants registered from the start. */
  tenants?: readonly string[];
  /**
   * Keep connections open between requests (default false: every answer carries
   * `Connection: close`, so after stop() a client sees "connection refused" rather than
   * a reused socket that was cut; set true to exercise that case).
   */
  keepAlive?: boolean;
  /** Called after each /api call is recorded (and again when it is answered). */
  onCall?: (call: PeerCall) => void;
}

export interface AuthPeer {
  /** `http://<host>:<port>` — the base URL to give the client. */
  readonly url: string;
  readonly port: number;
  calls(): PeerCall[];
  tenants(): string[];
  setTenants(ids: readonly string[]): void;
  mode(): PeerMode;
  setMode(mode: PeerMode): void;
  setRequiredToken(token: string | undefined): void;
  /** Clears calls and tenants, sets mode `ok` (the required token is kept). */
  reset(): void;
  /** Resolves with the first recorded call (past or future) matching `predicate`; rejects after `timeoutMs`. */
  waitForCall(predicate: (call: PeerCall) => boolean, timeoutMs?: number): Promise<PeerCall>;
  /** Closes the listener and drops every connection ("down"). Idempotent. */
  stop(): Promise<void>;
  /** Listens again on the same port. Idempotent. */
  start(): Promise<void>;
  /** stop() for good. */
  close(): Promise<void>;
}

interface Held {
  call: PeerCall;
  req: IncomingMessage;
  res: ServerResponse;
}

interface Waiter {
  predicate: (call: PeerCall) => boolean;
  resolve: (call: PeerCall) => void;
}

export async function startAuthPeer(options: AuthPeerOptions = {}): Promise<AuthPeer> {
  const host = options.host ?? '127.0.0.1';
  let port = options.port ?? 0;
  let requiredToken = options.requiredToken;
  let mode: PeerMode = 'ok';
  let registered = new Set<string>(options.tenants ?? []);
  let recorded: PeerCall[] = [];
  let held: Held[] = [];
  const waiters = new Set<Waiter>();
  let server: Server | undefined;
  let closed = false;

  function notify(call: PeerCall): void {
    options.onCall?.(call);
    for (const waiter of waiters) {
      if (waiter.predicate(call)) {
        waiters.delete(waiter);
        waiter.resolve(call);
      }
    }
  }

  function send(
    res: ServerResponse,
    call: PeerCall | undefined,
    status: number,
    body: unknown,
    headers = {},
  ): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const contentType = typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json';
    res.writeHead(status, {
      'content-type': contentType,
      ...(options.keepAlive === true ? {} : { connection: 'close' }),
      ...headers,
    });
    res.end(text);
    if (call !== undefined) {
      call.status = status;
      notify(call);
    }
  }

  function answerApi(call: PeerCall, req: IncomingMessage, res: ServerResponse): void {
    switch (mode) {
      case 'hang':
        held.push({ call, req, res });
        // The response's 'close' fires when the client goes away (we have not answered yet).
        res.once('close', () => {
          held = held.filter((h) => h.res !== res);
        });
        return;
      case 'fail500':
        return send(res, call, 500, { error: 'auth peer: simulated internal error' });
      case 'malformed':
        return send(res, call, 200, '<html><body>Not the Auth service</body></html>');
      case 'wrong-shape':
        return send(res, call, 200, { items: [...registered] });
      case 'redirect':
        return send(
          res,
          call,
          307,
          { error: 'moved' },
          { location: `http://${host}:${port}/moved${call.path}` },
        );
      case 'ok':
        break;
    }
    if (requiredToken !== undefined && call.authorization !== `Bearer ${requiredToken}`) {
      return send(res, call, 401, { error: 'missing or invalid bearer token' });
    }
    const url = new URL(call.path, 'http://peer');
    const collection = url.pathname === '/api/tenants';
    const item = /^\/api\/tenants\/([^/]+)$/.exec(url.pathname);
    if (collection && call.method === 'GET') {
      return send(res, call, 200, { tenants: [...registered] });
    }
    if (collection && call.method === 'POST') {
      const body = call.body as { tenantId?: unknown; adminUserId?: unknown } | undefined;
      const json = (req.headers['content-type'] ?? '').startsWith('application/json');
      if (
        !json ||
        typeof body !== 'object' ||
        body === null ||
        typeof body.tenantId !== 'string' ||
        body.tenantId === '' ||
        typeof body.adminUserId !== 'string'
      ) {
        return send(res, call, 400, { error: 'expected JSON {"tenantId": string, "adminUserId": string}' });
      }
      if (registered.has(body.tenantId)) {
        return send(res, call, 409, { error: `tenant ${body.tenantId} already exists` });
      }
      registered.add(body.tenantId);
      return send(res, call, 201, { tenantId: body.tenantId, adminUserId: body.adminUserId });
    }
    if (item !== null && call.method === 'DELETE') {
      const id = decodeURIComponent(item[1] ?? '');
      if (!registered.delete(id)) return send(res, call, 404, { error: `tenant ${id} not found` });
      return send(res, call, 200, { tenantId: id, deleted: true });
    }
    if (collection || item !== null) return send(res, call, 405, { error: 'method not allowed' });
    return send(res, call, 404, { error: 'not found' });
  }

  function answerAdmin(method: string, pathname: string, body: unknown, res: ServerResponse): void {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (method === 'GET' && pathname === '/__peer/calls')
      return send(res, undefined, 200, { calls: recorded });
    if (method === 'GET' && pathname === '/__peer/state') {
      return send(res, undefined, 200, {
        mode,
        tenants: [...registered],
        requiresToken: requiredToken !== undefined,
      });
    }
    if (method === 'POST' && pathname === '/__peer/mode') {
      if (!isPeerMode(b.mode)) {
        return send(res, undefined, 400, { error: `mode must be one of ${PEER_MODES.join(', ')}` });
      }
      setMode(b.mode);
      return send(res, undefined, 200, { mode });
    }
    if (method === 'POST' && pathname === '/__peer/token') {
      if (b.token !== null && typeof b.token !== 'string') {
        return send(res, undefined, 400, { error: 'token must be a string or null' });
      }
      requiredToken = b.token ?? undefined;
      return send(res, undefined, 200, { requiresToken: requiredToken !== undefined });
    }
    if (method === 'POST' && pathname === '/__peer/tenants') {
      if (!Array.isArray(b.tenants) || !b.tenants.every((t) => typeof t === 'string')) {
        return send(res, undefined, 400, { error: 'tenants must be an array of strings' });
      }
      setTenants(b.tenants as string[]);
      return send(res, undefined, 200, { tenants: [...registered] });
    }
    if (method === 'POST' && pathname === '/__peer/reset') {
      reset();
      return send(res, undefined, 200, { mode });
    }
    return send(res, undefined, 404, { error: 'unknown admin endpoint' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const pathname = new URL(path, 'http://peer').pathname;
    if (pathname.startsWith('/__peer/')) return answerAdmin(method, pathname, body, res);

    const call: PeerCall = {
      seq: recorded.length + 1,
      method,
      path,
      body,
      authorization: req.headers.authorization,
      time: new Date().toISOString(),
      mode,
      status: undefined,
    };
    recorded.push(call);
    notify(call);
    answerApi(call, req, res);
  }

  function releaseHeld(): void {
    const pending = held;
    held = [];
    for (const h of pending) {
      if (h.res.socket !== null && !h.res.socket.destroyed) answerApi(h.call, h.req, h.res);
    }
  }

  function setMode(next: PeerMode): void {
    if (!isPeerMode(next)) throw new TypeError(`auth peer: unknown mode ${String(next)}`);
    mode = next;
    if (mode !== 'hang') releaseHeld();
  }

  function setTenants(ids: readonly string[]): void {
    registered = new Set(ids);
  }

  function reset(): void {
    recorded = [];
    registered = new Set();
    setMode('ok');
  }

  async function start(): Promise<void> {
    if (closed) throw new Error('auth peer: start() after close()');
    if (server !== undefined) return;
    const s = createServer((req, res) => {
      handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) send(res, undefined, 500, { error: `auth peer bug: ${String(error)}` });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    if (s === undefined) return;
    server = undefined;
    const closing = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const h of held) h.res.destroy();
    held = [];
    s.closeAllConnections();
    await closing;
  }

  async function close(): Promise<void> {
    await stop();
    closed = true;
    waiters.clear();
  }

  function waitForCall(predicate: (call: PeerCall) => boolean, timeoutMs = 5000): Promise<PeerCall> {
    const found = recorded.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<PeerCall>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (call) => {
          clearTimeout(timer);
          resolve(call);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `auth peer: no matching call within ${timeoutMs} ms; calls so far: ${JSON.stringify(recorded)}`,
          ),
        );
      }, timeoutMs);
      waiters.add(waiter);
    });
  }

  await start();

  return {
    get url() {
      return `http://${host}:${port}`;
    },
    get port() {
      return port;
    },
    calls: () => recorded.map((c) => ({ ...c })),
    tenants: () => [...registered],
    setTenants,
    mode: () => mode,
    setMode,
    setRequiredToken: (token) => {
      requiredToken = token;
    },
    reset,
    waitForCall,
    stop,
    start,
    close,
  };
}

export function isPeerMode(value: unknown): value is PeerMode {
  return typeof value === 'string' && (PEER_MODES as readonly string[]).includes(value);
}

import { z } from 'zod';
import { type HttpSend, createHttpClient } from '../http/client.ts';
import { AuthServiceRejectedError, type AuthOperation } from './errors.ts';
import type { TokenSource } from './token-source.ts';
import {
  createTransport,
  excerpt,
  excerptSuffix,
  type AuthExchange,
  type AuthRequestEvent,
} from './transport.ts';
import { normalizeAuthUrl } from './url.ts';

export interface AuthClientOptions {
  /** Base URL of the Auth service (see `resolveAuthUrl`); trailing slashes are ignored. */
  baseUrl: string;
  /** When set, every request carries `Authorization: Bearer <token>`. */
  tokenSource?: TokenSource | undefined;
  /** Limit for each HTTP request, including reading the body. Default 5000. */
  timeoutMs?: number;
  /** Called once per HTTP request (for metrics); exceptions it throws are ignored. */
  onRequest?: ((event: AuthRequestEvent) => void) | undefined;
  /** Sends the HTTP requests (a seam for tests); default a keep-alive connection pool to `baseUrl`. */
  send?: HttpSend;
}

export interface RegisterResult {
  status: 'registered' | 'already-registered';
}

export interface DeregisterResult {
  status: 'deregistered' | 'already-gone';
}

export interface AuthClient {
  /** The normalised base URL the client calls. */
  readonly baseUrl: string;
  /** `GET /api/tenants` → the registered tenant ids. */
  listTenants(): Promise<string[]>;
  /**
   * Makes sure the tenant is registered: `GET /api/tenants`, and only when the id is
   * absent `POST /api/tenants` `{"tenantId", "adminUserId": "system"}` (201 or 409 = done).
   */
  register(tenantId: string): Promise<RegisterResult>;
  /** `DELETE /api/tenants/<id>`: 200 or 204 = deregistered, 404 = already gone. */
  deregister(tenantId: string): Promise<DeregisterResult>;
}

export const DEFAULT_AUTH_TIMEOUT_MS = 5000;
export const ADMIN_USER_ID = 'system';

const tenantListSchema = z.object({ tenants: z.array(z.string()) });

/**
 * Client for the NeuralLog Auth service contract (SPEC §5). Every failure is an
 * `AuthServiceError`: `AuthServiceUnavailableError` (retry later) or
 * `AuthServiceRejectedError` (configuration or contract problem). Nothing outside the
 * contract is ever reported as success.
 */
export function createAuthClient(options: AuthClientOptions): AuthClient {
  const baseUrl = normalizeAuthUrl(options.baseUrl, 'baseUrl');
  const timeoutMs = options.timeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(
      `Auth client timeoutMs must be a positive number of milliseconds, got ${timeoutMs}.`,
    );
  }
  const transport = createTransport({
    timeoutMs,
    tokenSource: options.tokenSource,
    onRequest: options.onRequest,
    send: options.send ?? createHttpClient(baseUrl).send,
  });
  const collectionUrl = `${baseUrl}/api/tenants`;

  async function listTenants(): Promise<string[]> {
    return transport.send({ operation: 'list', method: 'GET', url: collectionUrl }, (exchange) => {
      if (exchange.status !== 200) throw unexpectedStatus(exchange, '200 OK');
      return parseTenantList(exchange);
    });
  }

  async function register(tenantId: string): Promise<RegisterResult> {
    checkTenantId(tenantId);
    const registered = await listTenants();
    if (registered.includes(tenantId)) return { status: 'already-registered' };
    return transport.send(
      {
        operation: 'register',
        method: 'POST',
        url: collectionUrl,
        json: { tenantId, adminUserId: ADMIN_USER_ID },
      },
      (exchange): RegisterResult => {
        if (exchange.status === 201) return { status: 'registered' };
        if (exchange.status === 409) return { status: 'already-registered' };
        throw unexpectedStatus(exchange, '201 Created or 409 Conflict');
      },
    );
  }

  async function deregister(tenantId: string): Promise<DeregisterResult> {
    checkTenantId(tenantId);
    return transport.send(
      { operation: 'deregister', method: 'DELETE', url: `${collectionUrl}/${encodeURIComponent(tenantId)}` },
      (exchange): DeregisterResult => {
        if (exchange.status === 200 || exchange.status === 204) return { status: 'deregistered' };
        if (exchange.status === 404) return { status: 'already-gone' };
        throw unexpectedStatus(exchange, '200 OK, 204 No Content or 404 Not Found');
      },
    );
  }

  return { baseUrl, listTenants, register, deregister };
}

function checkTenantId(tenantId: string): void {
  if (typeof tenantId !== 'string' || tenantId === '') {
    throw new TypeError('Auth client: tenantId must be a non-empty string.');
  }
}

function parseTenantList(exchange: AuthExchange): string[] {
  const { request } = exchange;
  const where = `${request.method} ${request.url}`;
  const check =
    'Check that --auth-url points at the NeuralLog Auth service (not another service or a proxy page).';
  let data: unknown;
  try {
    data = JSON.parse(exchange.body);
  } catch (error) {
    const type = exchange.headers['content-type'] ?? 'no content-type';
    const what = `Auth service answered the tenant list with a body that is not JSON (${where}, 200, ${type}`;
    throw new AuthServiceRejectedError(`${what}${excerptSuffix(exchange.body)}). ${check}`, {
      operation: request.operation,
      status: exchange.status,
      cause: error,
      summary: `${what}). ${check}`,
    });
  }
  const parsed = tenantListSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.length === 0 ? '(body)' : issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    const what =
      `Auth service answered the tenant list with the wrong shape (${where}): expected ` +
      `{"tenants": [string, ...]}, but ${issues}`;
    throw new AuthServiceRejectedError(`${what}; body: ${excerpt(exchange.body)}. ${check}`, {
      operation: request.operation,
      status: exchange.status,
      cause: parsed.error,
      summary: `${what}. ${check}`,
    });
  }
  return parsed.data.tenants;
}

function unexpectedStatus(exchange: AuthExchange, expected: string): AuthServiceRejectedError {
  const { request, status } = exchange;
  const operation: AuthOperation = request.operation;
  const where = `${request.method} ${request.url}`;
  let hint: string;
  if (status === 404) {
    hint =
      'The endpoint was not found: check that --auth-url is the Auth service base URL (the operator appends /api/tenants).';
  } else if (status === 400 || status === 422) {
    hint =
      'The Auth service refused the request: check that it implements the tenant API this operator expects.';
  } else {
    hint =
      'Check that --auth-url points at a NeuralLog Auth service that implements the documented tenant API.';
  }
  const after = `(${where}; expected ${expected}). ${hint}`;
  return new AuthServiceRejectedError(
    `Auth service answered ${operation} with unexpected status ${status}${excerptSuffix(exchange.body)} ${after}`,
    {
      operation,
      status,
      summary: `Auth service answered ${operation} with unexpected status ${status} ${after}`,
    },
  );
}

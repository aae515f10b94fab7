import type { IncomingHttpHeaders } from 'node:http';
import type { HttpAnswer, HttpSend } from '../http/client.ts';
import {
  AuthServiceError,
  AuthServiceRejectedError,
  AuthServiceUnavailableError,
  type AuthOperation,
} from './errors.ts';
import type { TokenSource } from './token-source.ts';

/**
 * `result` label of `neurallog_operator_auth_requests_total`. Fixed set:
 * - `success`     — the answer matched the contract (this includes 409 on register and 404 on deregister);
 * - `timeout`     — no complete answer within `timeoutMs`;
 * - `unavailable` — connection refused / reset, DNS failure, 5xx, 408 or 429;
 * - `rejected`    — any other answer outside the contract (4xx, redirect, bad body, unexpected
 *                   status), or the bearer token could not be read (no request was sent then).
 */
export type AuthRequestResult = 'success' | 'timeout' | 'unavailable' | 'rejected';
export const AUTH_REQUEST_RESULTS: readonly AuthRequestResult[] = [
  'success',
  'timeout',
  'unavailable',
  'rejected',
];
export const AUTH_OPERATIONS: readonly AuthOperation[] = ['list', 'register', 'deregister'];

export interface AuthRequestEvent {
  operation: AuthOperation;
  result: AuthRequestResult;
  /** Wall time of the attempt, including reading the body. */
  durationSeconds: number;
  /** HTTP status, when an answer arrived. */
  status?: number;
}

export interface TransportOptions {
  timeoutMs: number;
  tokenSource?: TokenSource | undefined;
  onRequest?: ((event: AuthRequestEvent) => void) | undefined;
  send: HttpSend;
}

export interface AuthRequest {
  operation: AuthOperation;
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  json?: unknown;
}

/** A complete answer: status, headers and the whole body as text. */
export interface AuthExchange {
  request: AuthRequest;
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Transport {
  /**
   * Sends one HTTP request and hands the answer to `interpret`, which returns the
   * operation's result or throws an `AuthServiceError`. Answers that mean the same for
   * every operation (redirect, 401, 403, 408, 429, 5xx) are turned into errors before
   * `interpret` sees them. Calls `onRequest` exactly once.
   */
  send<T>(request: AuthRequest, interpret: (exchange: AuthExchange) => T): Promise<T>;
}

const USER_AGENT = 'neurallog-tenant-operator';

export function createTransport(options: TransportOptions): Transport {
  const { timeoutMs, tokenSource, onRequest } = options;

  function report(event: AuthRequestEvent): void {
    if (onRequest === undefined) return;
    try {
      onRequest(event);
    } catch {
      // A metrics hook must never change the outcome of a call.
    }
  }

  async function send<T>(request: AuthRequest, interpret: (exchange: AuthExchange) => T): Promise<T> {
    const started = performance.now();
    let status: number | undefined;
    try {
      const exchange = await exchangeOnce(request);
      status = exchange.status;
      rejectCommonFailures(exchange, tokenSource !== undefined);
      const value = interpret(exchange);
      report({ operation: request.operation, result: 'success', durationSeconds: elapsed(started), status });
      return value;
    } catch (error) {
      const authError =
        error instanceof AuthServiceError
          ? error
          : new AuthServiceRejectedError(
              `Auth service ${request.operation} call failed unexpectedly: ${String(error)}`,
              { operation: request.operation, status, cause: error },
            );
      report({
        operation: request.operation,
        result: resultOf(authError),
        durationSeconds: elapsed(started),
        ...(authError.status === undefined ? {} : { status: authError.status }),
      });
      throw authError;
    }
  }

  async function exchangeOnce(request: AuthRequest): Promise<AuthExchange> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    if (tokenSource !== undefined) {
      let token: string;
      try {
        token = await tokenSource.getToken();
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        throw new AuthServiceRejectedError(
          `Cannot call the Auth service (${request.operation}): no bearer token from ${tokenSource.description}: ${detail}`,
          { operation: request.operation, cause: error },
        );
      }
      headers.authorization = `Bearer ${token}`;
    }
    let body: string | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    }

    // Covers reading the body too. Redirects are never followed (node:http does not).
    const signal = AbortSignal.timeout(timeoutMs);
    let response: HttpAnswer;
    try {
      response = await options.send({ method: request.method, url: request.url, headers, body, signal });
    } catch (error) {
      throw transportFailure(request, error, signal, timeoutMs);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw transportFailure(
        request,
        error,
        signal,
        timeoutMs,
        `while reading the ${response.status} answer`,
        response.status,
      );
    }
    return { request, status: response.status, headers: response.headers, body: text };
  }

  return { send };
}

function rejectCommonFailures(exchange: AuthExchange, hasToken: boolean): void {
  const { request, status } = exchange;
  const where = `${request.method} ${request.url}`;
  const operation = request.operation;
  if (status >= 500 || status === 408 || status === 429) {
    const advice = 'It will be retried with backoff; if it persists, check the Auth service logs.';
    throw new AuthServiceUnavailableError(
      `Auth service failed ${operation} (${where} answered ${status}${excerptSuffix(exchange.body)}). ${advice}`,
      {
        operation,
        status,
        summary: `Auth service failed ${operation} (${where} answered ${status}). ${advice}`,
      },
    );
  }
  if (status >= 300 && status < 400) {
    const location = exchange.headers.location;
    throw new AuthServiceRejectedError(
      `Auth service answered ${operation} with a redirect (${where} → ${status}` +
        `${location === undefined ? '' : ` to ${location}`}). Redirects are not followed, so the bearer token ` +
        'is never sent elsewhere: set --auth-url to the final base URL (e.g. https instead of http, or the right path).',
      { operation, status },
    );
  }
  if (status === 401) {
    const advice = hasToken
      ? 'Check that the bearer token in --auth-token-file is current and valid for this Auth service.'
      : 'No bearer token is configured: set --auth-token-file to a file holding the token.';
    throw new AuthServiceRejectedError(
      `Auth service refused ${operation} as unauthenticated (${where} answered 401${excerptSuffix(exchange.body)}). ${advice}`,
      {
        operation,
        status,
        summary: `Auth service refused ${operation} as unauthenticated (${where} answered 401). ${advice}`,
      },
    );
  }
  if (status === 403) {
    const advice =
      'The token in --auth-token-file was accepted but may not manage tenants; grant it that permission.';
    throw new AuthServiceRejectedError(
      `Auth service refused ${operation} as forbidden (${where} answered 403${excerptSuffix(exchange.body)}). ${advice}`,
      {
        operation,
        status,
        summary: `Auth service refused ${operation} as forbidden (${where} answered 403). ${advice}`,
      },
    );
  }
}

/** Builds the error for a request that got no (complete) answer. */
function transportFailure(
  request: AuthRequest,
  error: unknown,
  signal: AbortSignal,
  timeoutMs: number,
  stage?: string,
  status?: number,
): AuthServiceUnavailableError {
  const where = `${request.method} ${request.url}${stage === undefined ? '' : `, ${stage}`}`;
  const operation = request.operation;
  if (signal.aborted && (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError') {
    return new AuthServiceUnavailableError(
      `Auth service did not answer ${operation} within ${timeoutMs} ms (${where}). ` +
        'It will be retried with backoff; check that the Auth service is healthy and reachable from the operator.',
      { operation, status, cause: error, timedOut: true },
    );
  }
  return new AuthServiceUnavailableError(
    `Auth service is unreachable for ${operation} (${where}: ${describeNetworkError(error)}). ` +
      'It will be retried with backoff; check that the Auth service is running and that --auth-url is right.',
    { operation, status, cause: error },
  );
}

function describeNetworkError(error: unknown): string {
  // A system error carries its code (ECONNREFUSED, …), possibly as the cause of a wrapper.
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const e = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === 'string') {
      const hint = NETWORK_CODES[e.code];
      parts.push(hint === undefined ? e.code : `${e.code}, ${hint}`);
      break;
    }
    if (typeof e.message === 'string' && e.message !== '') parts.push(e.message);
    current = e.cause;
  }
  return parts.length === 0 ? String(error) : parts.join(': ');
}

const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found in DNS',
  EAI_AGAIN: 'DNS lookup failed temporarily',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
  EPIPE: 'connection closed by the peer',
};

function resultOf(error: AuthServiceError): AuthRequestResult {
  if (error instanceof AuthServiceUnavailableError) return error.timedOut ? 'timeout' : 'unavailable';
  return 'rejected';
}

function elapsed(started: number): number {
  return (performance.now() - started) / 1000;
}

/** The first 200 characters of a body, on one line (`""` for an empty body). */
export function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

/** `": <excerpt>"`, or `""` for an empty body. */
export function excerptSuffix(body: string): string {
  const text = excerpt(body);
  return text === '' ? '' : `: ${text}`;
}

/**
 * Typed errors of the Auth service client.
 *
 * Every failure of a call to the Auth service is an `AuthServiceError`:
 * - `AuthServiceUnavailableError` — the service could not be reached or is failing
 *   (connection refused, DNS, timeout, 5xx, 408, 429). Transient: retry with backoff.
 * - `AuthServiceRejectedError` — the service answered, but not as the contract says
 *   (401/403/400/other 4xx, redirect, non-JSON or wrong-shape body, unexpected status)
 *   or the bearer token could not be read. Needs a person to fix configuration;
 *   retrying is harmless but will not help until something changes.
 */

/** The three calls the operator makes; also the `operation` metric label. */
export type AuthOperation = 'list' | 'register' | 'deregister';

export interface AuthServiceErrorOptions {
  operation: AuthOperation;
  /** HTTP status of the answer, when there was one. */
  status?: number;
  cause?: unknown;
  /**
   * The message without what varies between attempts that fail the same way (excerpts of the
   * answer's body): what status conditions show, so a retry does not rewrite them. Default: message.
   */
  summary?: string;
}

export class AuthServiceError extends Error {
  override name = 'AuthServiceError';
  readonly operation: AuthOperation;
  readonly status: number | undefined;
  /** Whether retrying the same call later can succeed without a configuration change. */
  readonly retryable: boolean = false;
  /** Stable for the same cause (see `AuthServiceErrorOptions.summary`). */
  readonly summary: string;

  constructor(message: string, options: AuthServiceErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.operation = options.operation;
    this.status = options.status;
    this.summary = options.summary ?? message;
  }
}

export class AuthServiceUnavailableError extends AuthServiceError {
  override name = 'AuthServiceUnavailableError';
  override readonly retryable: boolean = true;
  /** True when the call was cut off by the client's timeout. */
  readonly timedOut: boolean;

  constructor(message: string, options: AuthServiceErrorOptions & { timedOut?: boolean }) {
    super(message, options);
    this.timedOut = options.timedOut ?? false;
  }
}

export class AuthServiceRejectedError extends AuthServiceError {
  override name = 'AuthServiceRejectedError';
  override readonly retryable: boolean = false;
}

/** The configured Auth service URL is not usable. */
export class AuthUrlError extends Error {
  override name = 'AuthUrlError';
  /** Where the bad value came from: `--auth-url`, `AUTH_SERVICE_URL`, or `baseUrl` (programmatic). */
  readonly source: string;
  readonly value: string;

  constructor(message: string, options: { source: string; value: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.source = options.source;
    this.value = options.value;
  }
}

/** The bearer token file is missing, unreadable, empty or holds an unusable value. */
export class AuthTokenFileError extends Error {
  override name = 'AuthTokenFileError';
  readonly path: string;

  constructor(message: string, options: { path: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.path = options.path;
  }
}

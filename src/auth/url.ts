import { AuthUrlError } from './errors.ts';

export const DEFAULT_AUTH_URL = 'http://auth.neurallog-system.svc:3000';
export const AUTH_URL_FLAG = '--auth-url';
export const AUTH_URL_ENV = 'AUTH_SERVICE_URL';

export interface ResolveAuthUrlOptions {
  /** Value of `--auth-url`, if given. An empty string is an error (not "unset"). */
  flag?: string | undefined;
  /** The process environment (only `AUTH_SERVICE_URL` is read; empty or blank counts as unset). */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The Auth service base URL: `--auth-url`, else env `AUTH_SERVICE_URL`, else
 * `http://auth.neurallog-system.svc:3000`. Returned normalised (see `normalizeAuthUrl`).
 * Throws `AuthUrlError` naming the flag or variable when the value is not usable.
 */
export function resolveAuthUrl(options: ResolveAuthUrlOptions = {}): string {
  if (options.flag !== undefined) return normalizeAuthUrl(options.flag, AUTH_URL_FLAG);
  const fromEnv = options.env?.[AUTH_URL_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return normalizeAuthUrl(fromEnv, AUTH_URL_ENV);
  return DEFAULT_AUTH_URL;
}

/**
 * Checks that `value` is an absolute http(s) URL without credentials, query or fragment,
 * and returns it without trailing slashes (a path prefix such as `/auth` is kept, so
 * `http://h/auth/` calls `http://h/auth/api/tenants`).
 * `source` names where the value came from, for the error message.
 */
export function normalizeAuthUrl(value: string, source: string = 'baseUrl'): string {
  const fix = `Set ${AUTH_URL_FLAG} (or ${AUTH_URL_ENV}) to the Auth service base URL, e.g. ${DEFAULT_AUTH_URL}.`;
  const fail = (problem: string, cause?: unknown): never => {
    throw new AuthUrlError(
      `Invalid Auth service URL from ${source} ${JSON.stringify(value)}: ${problem}. ${fix}`,
      {
        source,
        value,
        cause,
      },
    );
  };
  const trimmed = value.trim();
  if (trimmed === '') fail('it is empty');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch (error) {
    return fail('it is not an absolute URL', error);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(`the scheme must be http or https, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.hostname === '') fail('it has no host');
  if (url.username !== '' || url.password !== '') {
    fail('it must not contain credentials; use --auth-token-file for a bearer token');
  }
  if (url.search !== '' || trimmed.includes('?')) fail('it must not contain a query string');
  if (url.hash !== '' || trimmed.includes('#')) fail('it must not contain a fragment');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

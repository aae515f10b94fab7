export {
  ADMIN_USER_ID,
  DEFAULT_AUTH_TIMEOUT_MS,
  createAuthClient,
  type AuthClient,
  type AuthClientOptions,
  type DeregisterResult,
  type RegisterResult,
} from './client.ts';
export {
  AuthServiceError,
  AuthServiceRejectedError,
  AuthServiceUnavailableError,
  AuthTokenFileError,
  AuthUrlError,
  type AuthOperation,
} from './errors.ts';
export { createFileTokenSource, type TokenSource } from './token-source.ts';
export {
  AUTH_OPERATIONS,
  AUTH_REQUEST_RESULTS,
  type AuthRequestEvent,
  type AuthRequestResult,
} from './transport.ts';
export { AUTH_URL_ENV, AUTH_URL_FLAG, DEFAULT_AUTH_URL, normalizeAuthUrl, resolveAuthUrl } from './url.ts';

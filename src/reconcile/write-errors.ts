/**
 * How a failed write is described in a condition message: stable for the same cause (so a retry
 * that fails the same way rewrites no status and announces no second Warning) and still saying
 * what to do. The API server's own message is kept for refusals (4xx: deterministic); for
 * transient failures only their kind is kept (a 5xx body or a socket error varies).
 */
import { KubeApiError, KubeConnectionError } from '../kube/rest.ts';

export function describeWriteError(error: unknown): string {
  if (error instanceof KubeApiError) {
    const status = `${error.status}${error.reason ? ` ${error.reason}` : ''}`;
    if (error.status === 429 || error.status >= 500)
      return `the API server answered ${status}; retrying with backoff`;
    const message = error.body?.message?.replace(/\s+/g, ' ').trim();
    return message ? `${status}: ${message}` : status;
  }
  if (error instanceof KubeConnectionError)
    return 'the API server could not be reached; retrying with backoff';
  return error instanceof Error ? error.message : String(error);
}

/** Errors from the API server edge, shared by writes (rest.ts) and watches (watch-source.ts). */

export interface KubeStatusBody {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: Array<{ field?: string; message?: string; reason?: string }> };
}

function hintFor(status: number): string {
  if (status === 401)
    return 'The API server rejected the credentials: check the kubeconfig user or the service account token.';
  if (status === 403)
    return "The operator's identity lacks this permission: check its ClusterRole (config/rbac).";
  if (status === 404)
    return 'Not found (for a whole resource type: is its CRD installed? kubectl apply -f config/crd/bases).';
  if (status === 409) return 'Someone changed it meanwhile; it is read again and retried.';
  if (status === 422) return 'The API server refused the object as invalid; see the message.';
  if (status === 429 || status >= 500)
    return 'The API server is overloaded or unavailable; the request will be retried.';
  return 'The request will be retried.';
}

/** The API server answered with an error status. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly status: number;
  readonly reason: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly body: KubeStatusBody | undefined;

  constructor(options: {
    method: string;
    path: string;
    status: number;
    body?: KubeStatusBody;
    cause?: unknown;
  }) {
    const { method, path, status, body } = options;
    super(
      `${method} ${path}: ${status}${body?.reason ? ` ${body.reason}` : ''}` +
        `${body?.message ? `: ${body.message}` : ''}. ${hintFor(status)}`,
      { cause: options.cause },
    );
    this.status = status;
    this.reason = body?.reason;
    this.method = method;
    this.path = path;
    this.body = body;
  }
}

/** The API server could not be reached (DNS, refused, TLS, reset before the response). */
export class KubeConnectionError extends Error {
  override readonly name = 'KubeConnectionError';
  constructor(server: string, path: string, cause: unknown) {
    super(
      `could not reach the API server ${server} for ${path}: ${describeCause(cause)}. ` +
        'Check the server address, network and TLS settings of the kubeconfig; the request will be retried.',
      { cause },
    );
  }
}

export function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const inner = err.cause instanceof Error ? ` (${messageOf(err.cause)})` : '';
  return `${messageOf(err)}${inner}`;
}

function messageOf(err: Error): string {
  if (err.message) return err.message;
  // Connecting to a name with IPv4 and IPv6 addresses fails as one AggregateError without a message.
  if (err instanceof AggregateError) return err.errors.map((e) => describeCause(e)).join('; ');
  return (err as { code?: unknown }).code?.toString() ?? err.name;
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.status === 409;
export const isAlreadyExists = (e: unknown): boolean =>
  e instanceof KubeApiError && e.status === 409 && e.reason === 'AlreadyExists';
export const isInvalid = (e: unknown): boolean => e instanceof KubeApiError && e.status === 422;

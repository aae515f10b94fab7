/** Errors of loading Kubernetes client configuration; each names where it looked or the field at fault. */

/** No configuration was found; `searched` lists every place that was tried. */
export class KubeconfigNotFoundError extends Error {
  override readonly name = 'KubeconfigNotFoundError';
  readonly searched: string[];

  constructor(searched: string[], hint: string) {
    super(
      `no Kubernetes API server configuration found. Looked for: ${searched.join('; ')}. ${hint} ` +
        '(The operator never falls back to http://localhost:8080.)',
    );
    this.searched = searched;
  }
}

/** A configuration was found but cannot be used as it is. */
export class KubeconfigInvalidError extends Error {
  override readonly name: string = 'KubeconfigInvalidError';
  readonly origin: string;
  /** The kubeconfig field at fault, e.g. `users[0].user.client-key`, when there is one. */
  readonly field: string | undefined;

  constructor(origin: string, problem: string, options?: { cause?: unknown; field?: string }) {
    super(`the Kubernetes client configuration from ${origin} is unusable: ${problem}`, options);
    this.origin = origin;
    this.field = options?.field;
  }
}

/**
 * A kubeconfig that came from a Secret asks for something the operator does not do with
 * configuration it did not write itself: run a program (`exec`) or read a file of its own pod.
 */
export class KubeconfigRefusedError extends KubeconfigInvalidError {
  override readonly name = 'KubeconfigRefusedError';

  constructor(origin: string, field: string, why: string) {
    super(origin, `${field} is not accepted here: ${why}`, { field });
  }
}

/** An exec credential plugin could not be run or answered with something unusable. */
export class ExecCredentialError extends Error {
  override readonly name = 'ExecCredentialError';
  readonly command: string;

  constructor(command: string, problem: string, options?: { cause?: unknown; installHint?: string }) {
    super(
      `the exec credential plugin "${command}" ${problem}` +
        (options?.installHint
          ? `. ${options.installHint}`
          : '. Check the users[].user.exec entry of the kubeconfig'),
      options,
    );
    this.command = command;
  }
}

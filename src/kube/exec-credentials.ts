/**
 * Exec credential plugins (`users[].user.exec`, `client.authentication.k8s.io/v1`): the plugin
 * prints an ExecCredential whose `status.token` is used until `status.expirationTimestamp`
 * (for the whole process when it names none), and again after the API server answered 401.
 * Non-interactive only: the operator has no terminal to prompt on.
 */
import { execFile } from 'node:child_process';
import type { Credentials } from './credentials.ts';
import { ExecCredentialError } from './kubeconfig-errors.ts';
import type { KubeconfigExec } from './kubeconfig-document.ts';

export const EXEC_API_VERSIONS = [
  'client.authentication.k8s.io/v1',
  'client.authentication.k8s.io/v1beta1',
] as const;

export interface ExecCredentialsOptions {
  /** Passed as `spec.cluster` when the kubeconfig sets `provideClusterInfo`. */
  cluster?: { server: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean };
  now?: () => number;
  /** Kill the plugin after this long. Default 60 s. */
  timeoutMs?: number;
  /** Renew this long before the expiry it announced. Default 10 s. */
  earlyMs?: number;
}

interface ExecCredentialStatus {
  token?: unknown;
  expirationTimestamp?: unknown;
  clientCertificateData?: unknown;
  clientKeyData?: unknown;
}

export function execCredentials(exec: KubeconfigExec, options: ExecCredentialsOptions = {}): Credentials {
  if (!(EXEC_API_VERSIONS as readonly string[]).includes(exec.apiVersion)) {
    throw new ExecCredentialError(
      exec.command,
      `speaks ${exec.apiVersion}, which is not supported (use ${EXEC_API_VERSIONS[0]})`,
    );
  }
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const earlyMs = options.earlyMs ?? 10_000;
  let cached: { header: string; expiresAt: number } | undefined;
  let running: Promise<string> | undefined;

  const run = async (): Promise<string> => {
    const execInfo = {
      apiVersion: exec.apiVersion,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        ...(exec.provideClusterInfo && options.cluster ? { cluster: options.cluster } : {}),
      },
    };
    const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(execInfo) };
    for (const { name, value } of exec.env) env[name] = value;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        exec.command,
        exec.args,
        { env, timeout: timeoutMs, maxBuffer: 1 << 20 },
        (err, out, stderr) => {
          if (!err) return resolve(out);
          const notFound = (err as NodeJS.ErrnoException).code === 'ENOENT';
          reject(
            new ExecCredentialError(
              exec.command,
              notFound
                ? 'was not found'
                : `failed (${err.message.split('\n')[0]}${stderr ? `: ${stderr.trim().slice(0, 300)}` : ''})`,
              { cause: err, ...(notFound && exec.installHint ? { installHint: exec.installHint } : {}) },
            ),
          );
        },
      );
    });
    let credential: { apiVersion?: unknown; kind?: unknown; status?: ExecCredentialStatus };
    try {
      credential = JSON.parse(stdout) as typeof credential;
    } catch (err) {
      throw new ExecCredentialError(exec.command, 'printed something that is not JSON', { cause: err });
    }
    if (credential.kind !== 'ExecCredential' || credential.apiVersion !== exec.apiVersion) {
      throw new ExecCredentialError(
        exec.command,
        `printed kind ${String(credential.kind)} ${String(credential.apiVersion)}, expected ExecCredential ${exec.apiVersion}`,
      );
    }
    const status = credential.status ?? {};
    if (status.clientCertificateData !== undefined || status.clientKeyData !== undefined) {
      throw new ExecCredentialError(
        exec.command,
        'answered with a client certificate (status.clientCertificateData); only status.token is supported',
      );
    }
    if (typeof status.token !== 'string' || status.token === '') {
      throw new ExecCredentialError(exec.command, 'answered without status.token');
    }
    let expiresAt = Number.POSITIVE_INFINITY;
    if (status.expirationTimestamp !== undefined) {
      expiresAt =
        typeof status.expirationTimestamp === 'string' ? Date.parse(status.expirationTimestamp) : NaN;
      if (Number.isNaN(expiresAt)) {
        throw new ExecCredentialError(
          exec.command,
          `answered with status.expirationTimestamp ${JSON.stringify(status.expirationTimestamp)}, which is not an RFC 3339 time`,
        );
      }
    }
    cached = { header: `Bearer ${status.token}`, expiresAt };
    return cached.header;
  };

  return {
    async authorization() {
      if (cached && now() < cached.expiresAt - earlyMs) return cached.header;
      running ??= run().finally(() => (running = undefined));
      return running;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

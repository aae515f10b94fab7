/**
 * Where the `Authorization` header of an API request comes from: a fixed token, a token file
 * that rotates (the bound service account token), basic auth, or an exec credential plugin.
 */
import fs from 'node:fs/promises';
import { KubeconfigInvalidError } from './kubeconfig-errors.ts';

export interface Credentials {
  /** `authorization: …`, or nothing for client-certificate auth. */
  authorization(): Promise<string | undefined>;
  /** The API server answered 401: forget what is cached so the next request reads afresh. */
  invalidate(): void;
}

export const noCredentials: Credentials = {
  authorization: async () => undefined,
  invalidate: () => {},
};

export function staticToken(token: string): Credentials {
  const header = `Bearer ${token}`;
  return { authorization: async () => header, invalidate: () => {} };
}

export function basicAuth(username: string, password: string): Credentials {
  const header = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  return { authorization: async () => header, invalidate: () => {} };
}

export interface TokenFileOptions {
  /** Re-read the file at most this often. Default 60 s (as client-go does). */
  refreshMs?: number;
  now?: () => number;
  /** Names the source in errors, e.g. `users[0].user.tokenFile`. */
  field?: string;
  origin?: string;
}

/**
 * A token kept in a file that someone else renews (the kubelet rotates a projected service
 * account token well before it expires): read again after `refreshMs`, or at once after a 401.
 */
export function tokenFile(file: string, options: TokenFileOptions = {}): Credentials {
  const refreshMs = options.refreshMs ?? 60_000;
  const now = options.now ?? Date.now;
  let cached: { header: string; readAt: number } | undefined;
  let reading: Promise<string> | undefined;
  const read = async (): Promise<string> => {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      throw new KubeconfigInvalidError(options.origin ?? file, `the token file ${file} cannot be read`, {
        cause: err,
        ...(options.field ? { field: options.field } : {}),
      });
    }
    const token = text.trim();
    if (!token) {
      throw new KubeconfigInvalidError(options.origin ?? file, `the token file ${file} is empty`, {
        ...(options.field ? { field: options.field } : {}),
      });
    }
    cached = { header: `Bearer ${token}`, readAt: now() };
    return cached.header;
  };
  return {
    async authorization() {
      if (cached && now() - cached.readAt < refreshMs) return cached.header;
      reading ??= read().finally(() => (reading = undefined));
      return reading;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

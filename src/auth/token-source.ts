import { readFile, stat } from 'node:fs/promises';
import { AuthTokenFileError } from './errors.ts';

/** Supplies the bearer token sent to the Auth service; asked once per HTTP request. */
export interface TokenSource {
  getToken(): Promise<string>;
  /** Human-readable origin of the token, used in error messages (e.g. the file path). */
  readonly description: string;
}

/**
 * A token read from a file (`--auth-token-file`), trimmed of surrounding whitespace.
 *
 * Mounted Secrets are updated by swapping a symlink (`..data`) to a new directory,
 * so `fs.watch` on the file is not reliable. Instead every `getToken()` does one
 * cheap `stat` (following symlinks) and re-reads the file when device, inode, size,
 * mtime or ctime changed. A missing, unreadable or empty file, or a token with
 * whitespace or control characters inside, is an `AuthTokenFileError` naming the path;
 * the next call tries again, so a file that appears later is picked up.
 */
export function createFileTokenSource(path: string): TokenSource {
  let cached: { key: string; token: string } | undefined;

  async function getToken(): Promise<string> {
    let key: string;
    try {
      const s = await stat(path, { bigint: true });
      if (!s.isFile()) {
        throw new AuthTokenFileError(
          `Auth token path ${path} is not a regular file. Point --auth-token-file at the file holding the bearer token.`,
          { path },
        );
      }
      key = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (error) {
      cached = undefined;
      if (error instanceof AuthTokenFileError) throw error;
      throw readError(path, error);
    }
    if (cached?.key === key) return cached.token;

    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      cached = undefined;
      throw readError(path, error);
    }
    const token = text.trim();
    if (token === '') {
      cached = undefined;
      throw new AuthTokenFileError(
        `Auth token file ${path} is empty. Put the bearer token in it (check the Secret mounted for --auth-token-file).`,
        { path },
      );
    }
    // Control characters would corrupt the Authorization header; whitespace inside
    // means the file holds something other than one token (e.g. "Bearer xyz" or two lines).
    if (/[\s\p{Cc}]/u.test(token)) {
      cached = undefined;
      throw new AuthTokenFileError(
        `Auth token file ${path} must hold only the bearer token (no "Bearer " prefix, no spaces, no extra lines).`,
        { path },
      );
    }
    cached = { key, token };
    return token;
  }

  return { getToken, description: `token file ${path}` };
}

function readError(path: string, error: unknown): AuthTokenFileError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const what =
    code === 'ENOENT'
      ? 'does not exist'
      : code === 'EACCES' || code === 'EPERM'
        ? 'is not readable by the operator'
        : `cannot be read (${code ?? String(error)})`;
  return new AuthTokenFileError(
    `Auth token file ${path} ${what}. Check --auth-token-file and that the Secret holding the token is mounted there.`,
    { path, cause: error },
  );
}

import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuthTokenFileError } from './errors.ts';
import { createFileTokenSource } from './token-source.ts';

describe('createFileTokenSource', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'token-source-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function isTokenError(path: string, pattern: RegExp) {
    return (error: unknown) =>
      error instanceof AuthTokenFileError &&
      error.path === path &&
      error.message.includes(path) &&
      pattern.test(error.message);
  }

  it('reads the token trimmed', async () => {
    const file = join(dir, 'plain');
    await writeFile(file, '  abc.def-ghi_=\n\n');
    const source = createFileTokenSource(file);
    assert.equal(await source.getToken(), 'abc.def-ghi_=');
    assert.equal(await source.getToken(), 'abc.def-ghi_=');
    assert.equal(source.description, `token file ${file}`);
  });

  it('re-reads the file when it is rewritten', async () => {
    const file = join(dir, 'rewritten');
    await writeFile(file, 'first');
    const source = createFileTokenSource(file);
    assert.equal(await source.getToken(), 'first');
    await writeFile(file, 'second-token');
    assert.equal(await source.getToken(), 'second-token');
  });

  it('follows a Kubernetes-style atomic symlink swap (..data)', async () => {
    // <secret>/token -> ..data/token, ..data -> ..v1 ; the kubelet swaps ..data to ..v2.
    const secret = join(dir, 'secret');
    await mkdir(join(secret, '..v1'), { recursive: true });
    await mkdir(join(secret, '..v2'));
    await writeFile(join(secret, '..v1', 'token'), 'v1-token');
    await writeFile(join(secret, '..v2', 'token'), 'v2-token'); // same size as v1
    await symlink('..v1', join(secret, '..data'));
    await symlink(join('..data', 'token'), join(secret, 'token'));
    const source = createFileTokenSource(join(secret, 'token'));
    assert.equal(await source.getToken(), 'v1-token');

    await symlink('..v2', join(secret, '..data_tmp'));
    await rename(join(secret, '..data_tmp'), join(secret, '..data'));
    assert.equal(await source.getToken(), 'v2-token');
  });

  it('names the path when the file is missing, and picks it up once it appears', async () => {
    const file = join(dir, 'later');
    const source = createFileTokenSource(file);
    await assert.rejects(source.getToken(), (error: unknown) => {
      assert.ok(isTokenError(file, /does not exist\. Check --auth-token-file/)(error), String(error));
      assert.equal((error as Error & { cause?: { code?: string } }).cause?.code, 'ENOENT');
      return true;
    });
    await writeFile(file, 'arrived');
    assert.equal(await source.getToken(), 'arrived');
  });

  it('refuses an empty or blank file', async () => {
    const file = join(dir, 'empty');
    await writeFile(file, ' \n\t\n');
    await assert.rejects(createFileTokenSource(file).getToken(), isTokenError(file, /is empty/));
  });

  it('refuses a file holding more than one token', async () => {
    const file = join(dir, 'prefixed');
    await writeFile(file, 'Bearer abc\n');
    await assert.rejects(createFileTokenSource(file).getToken(), isTokenError(file, /only the bearer token/));
    await writeFile(file, 'abc\r\ndef');
    await assert.rejects(createFileTokenSource(file).getToken(), isTokenError(file, /only the bearer token/));
  });

  it('refuses a directory', async () => {
    await assert.rejects(createFileTokenSource(dir).getToken(), isTokenError(dir, /not a regular file/));
  });

  it(
    'reports an unreadable file',
    { skip: process.getuid?.() === 0 ? 'root can read any file' : false },
    async () => {
      const file = join(dir, 'locked');
      await writeFile(file, 'secret');
      await chmod(file, 0o000);
      await assert.rejects(createFileTokenSource(file).getToken(), isTokenError(file, /not readable/));
    },
  );

  it('does not keep serving a token after the file is removed', async () => {
    const file = join(dir, 'removed');
    await writeFile(file, 'gone-soon');
    const source = createFileTokenSource(file);
    assert.equal(await source.getToken(), 'gone-soon');
    await rm(file);
    await assert.rejects(source.getToken(), isTokenError(file, /does not exist/));
  });
});

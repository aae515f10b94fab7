import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tokenFile } from './credentials.ts';
import { KubeconfigInvalidError } from './kubeconfig-errors.ts';

describe('tokenFile', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token-file-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps the token for a minute, then reads the rotated one', async () => {
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'first\n');
    let now = 1_000_000;
    const credentials = tokenFile(file, { now: () => now });
    assert.equal(await credentials.authorization(), 'Bearer first');
    fs.writeFileSync(file, 'second\n');
    now += 59_000;
    assert.equal(await credentials.authorization(), 'Bearer first', 'within the minute');
    now += 1_000;
    assert.equal(await credentials.authorization(), 'Bearer second', 'after the minute');
  });

  it('reads again at once after a 401 (invalidate)', async () => {
    const file = path.join(dir, 'token-401');
    fs.writeFileSync(file, 'old');
    const credentials = tokenFile(file, { now: () => 0 });
    assert.equal(await credentials.authorization(), 'Bearer old');
    fs.writeFileSync(file, 'new');
    credentials.invalidate();
    assert.equal(await credentials.authorization(), 'Bearer new');
  });

  it('names the field of a missing or empty file', async () => {
    const missing = tokenFile(path.join(dir, 'absent'), { field: 'users[0].user.tokenFile', origin: 'cfg' });
    await assert.rejects(
      missing.authorization(),
      (err: unknown) =>
        err instanceof KubeconfigInvalidError &&
        err.field === 'users[0].user.tokenFile' &&
        err.cause !== undefined,
    );
    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '\n');
    await assert.rejects(tokenFile(empty).authorization(), /is empty/);
  });
});

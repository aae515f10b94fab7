import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { JsonLinesTail } from '../../bench/lib/audit.ts';

const line = (n: number) => `${JSON.stringify({ n })}\n`;

describe('JsonLinesTail', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tail-'));
    path = join(dir, 'audit.log');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads only what was appended after skipToEnd, and skips lines that are not JSON', async () => {
    await writeFile(path, line(0));
    const tail = new JsonLinesTail<{ n: number }>(path);
    await tail.skipToEnd();
    await appendFile(path, `${line(1)}(node) a warning\n${line(2)}`);
    assert.equal(await tail.mark(), 2);
    assert.deepEqual(tail.events, [{ n: 1 }, { n: 2 }]);
  });

  it('follows rotation: the rest of the renamed file, newer backups, then the new file', async () => {
    await writeFile(path, line(0));
    const tail = new JsonLinesTail<{ n: number }>(path);
    await tail.skipToEnd();
    await appendFile(path, line(1));
    await rename(path, join(dir, 'audit-2026-12-06T21-18-49.432.log'));
    await writeFile(path, line(2));
    await rename(path, join(dir, 'audit-2026-12-06T21-30-00.000.log'));
    await writeFile(path, line(3));
    assert.equal(await tail.mark(), 3);
    assert.deepEqual(
      tail.events.map((e) => e.n),
      [1, 2, 3],
    );
    await appendFile(path, line(4));
    assert.equal(await tail.mark(), 4);
  });

  it('says so when the part not yet read was rotated away', async () => {
    await writeFile(path, line(0));
    const tail = new JsonLinesTail<{ n: number }>(path);
    await tail.skipToEnd();
    // a new file renamed over the old one: its inode differs, the old one is gone with no backup
    await writeFile(join(dir, 'next'), line(1));
    await rename(join(dir, 'next'), path);
    await assert.rejects(tail.mark(), /rotated and the part not yet read is gone/);
  });
});

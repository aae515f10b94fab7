// Reads the API server's audit log (JSON lines) incrementally and counts requests by verb and
// resource. Marks are positions in the list of events read so far, so a window is
// `events.slice(markA, markB)`. The log backend is blocking: an event is on disk before its
// response is sent, so a mark taken after a response has been seen includes that request.
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

export interface AuditEvent {
  stage: string;
  verb: string;
  userAgent?: string;
  requestURI: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
}

export const WRITE_VERBS: ReadonlySet<string> = new Set([
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
]);
export const READ_VERBS: ReadonlySet<string> = new Set(['get', 'list']);

/**
 * Follows a file of JSON lines (the audit log, the operator's pino log). Lines that are not JSON
 * (a Node.js warning on stderr, say) are skipped. It follows the API server's log rotation
 * (`<name>-<timestamp><ext>` beside the file, as its `--audit-log-maxsize` writes them): the file
 * being read is known by its inode, so when it was renamed, its rest and any newer backups are
 * read before the new file.
 */
export class JsonLinesTail<T> {
  readonly path: string;
  readonly events: T[] = [];
  #inode: number | undefined;
  #offset = 0;
  #partial = '';
  #decoder = new StringDecoder('utf8');

  constructor(path: string) {
    this.path = path;
  }

  /** Skip everything written so far (events before now are never read). */
  async skipToEnd(): Promise<void> {
    const now = await stat(this.path);
    this.#inode = now.ino;
    this.#offset = now.size;
    this.#partial = '';
    this.#decoder = new StringDecoder('utf8');
  }

  /** Reads what was appended since the last call; returns the number of events read so far. */
  async mark(): Promise<number> {
    const current = await stat(this.path);
    if (this.#inode !== undefined && current.ino !== this.#inode) {
      for (const backup of await this.#rotatedSince(this.#inode)) {
        await this.#readFrom(backup);
        this.#offset = 0;
      }
    }
    this.#inode = current.ino;
    await this.#readFrom(this.path);
    return this.events.length;
  }

  /** The backup that holds the file last read, then the newer backups, oldest first. */
  async #rotatedSince(inode: number): Promise<string[]> {
    const dir = dirname(this.path);
    const ext = extname(this.path);
    const prefix = `${basename(this.path, ext)}-`;
    const backups = (await readdir(dir))
      .filter((name) => name.startsWith(prefix) && name.endsWith(ext))
      .sort()
      .map((name) => join(dir, name));
    for (const [i, path] of backups.entries()) {
      if ((await stat(path)).ino === inode) return backups.slice(i);
    }
    throw new Error(
      `${this.path} was rotated and the part not yet read is gone (rotated more often than the API ` +
        'server keeps backups): raise --audit-log-maxbackup or read more often',
    );
  }

  async #readFrom(path: string): Promise<void> {
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      if (size < this.#offset) throw new Error(`${path} shrank (truncated?) during the benchmark`);
      const chunkSize = 4 << 20;
      const buffer = Buffer.alloc(chunkSize);
      while (this.#offset < size) {
        const length = Math.min(chunkSize, size - this.#offset);
        const { bytesRead } = await handle.read(buffer, 0, length, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        const text = this.#partial + this.#decoder.write(buffer.subarray(0, bytesRead));
        const lines = text.split('\n');
        this.#partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.startsWith('{')) continue;
          try {
            this.events.push(JSON.parse(line) as T);
          } catch {
            // not a JSON line
          }
        }
      }
    } finally {
      await handle.close();
    }
  }
}

export const isOperator = (e: AuditEvent): boolean => (e.userAgent ?? '').includes('tenant-operator');

export function resourceKey(e: AuditEvent): string {
  const r = e.objectRef;
  if (!r?.resource) return e.requestURI.split('?')[0] ?? e.requestURI;
  return r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
}

export interface RequestCounts {
  /** create/update/patch/delete/deletecollection, stage ResponseComplete. */
  writes: number;
  /** get/list, stage ResponseComplete. */
  reads: number;
  /** Watch requests opened (stage ResponseStarted). */
  watchesOpened: number;
  /** `verb resource[/subresource]` → count, writes only. */
  writesBy: Record<string, number>;
  /** `verb resource[/subresource]` → count, reads only. */
  readsBy: Record<string, number>;
  /** HTTP status code → count over writes. */
  writeStatus: Record<string, number>;
  /** `verb resource code` for every write that was not 2xx. */
  failedWritesBy: Record<string, number>;
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function sorted(map: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(map).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export function countRequests(
  events: readonly AuditEvent[],
  filter: (e: AuditEvent) => boolean,
): RequestCounts {
  const counts: RequestCounts = {
    writes: 0,
    reads: 0,
    watchesOpened: 0,
    writesBy: {},
    readsBy: {},
    writeStatus: {},
    failedWritesBy: {},
  };
  for (const e of events) {
    if (!filter(e)) continue;
    const key = `${e.verb} ${resourceKey(e)}`;
    if (e.verb === 'watch') {
      if (e.stage === 'ResponseStarted') counts.watchesOpened++;
      continue;
    }
    if (e.stage !== 'ResponseComplete') continue;
    if (WRITE_VERBS.has(e.verb)) {
      counts.writes++;
      bump(counts.writesBy, key);
      const code = e.responseStatus?.code ?? 0;
      bump(counts.writeStatus, String(code));
      if (code < 200 || code > 299) bump(counts.failedWritesBy, `${key} ${code}`);
    } else if (READ_VERBS.has(e.verb)) {
      counts.reads++;
      bump(counts.readsBy, key);
    }
  }
  counts.writesBy = sorted(counts.writesBy);
  counts.readsBy = sorted(counts.readsBy);
  counts.failedWritesBy = sorted(counts.failedWritesBy);
  return counts;
}

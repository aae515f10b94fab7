import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { FakeClock } from './clock.ts';
import {
  Informer,
  InformerStoppedError,
  ResourceVersionExpiredError,
  objectKey,
  trimManagedFields,
} from './informer.ts';
import type {
  InformerHandlers,
  InformerOptions,
  ListResult,
  WatchEventType,
  WatchSource,
} from './informer.ts';

// ---- test doubles -------------------------------------------------------------

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion: string; managedFields?: unknown };
  data?: string;
}

function obj(name: string, rv: string, extra: Partial<Obj> = {}): Obj {
  return { metadata: { name, resourceVersion: rv }, ...extra };
}

interface Deferred<V> {
  promise: Promise<V>;
  resolve(value: V): void;
  reject(err: unknown): void;
}

function deferred<V>(): Deferred<V> {
  let resolve!: (value: V) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<V>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface FakeList {
  signal: AbortSignal;
  reply: Deferred<ListResult<Obj>>;
}

interface FakeWatch {
  resourceVersion: string;
  signal: AbortSignal;
  emit(type: WatchEventType, o: Obj): Promise<void>;
  end(): void;
  fail(err: unknown): void;
}

/** A scriptable WatchSource: every call is recorded and answered by the test. */
class FakeSource implements WatchSource<Obj> {
  lists: FakeList[] = [];
  watches: FakeWatch[] = [];

  list(signal: AbortSignal): Promise<ListResult<Obj>> {
    const reply = deferred<ListResult<Obj>>();
    this.lists.push({ signal, reply });
    return reply.promise;
  }

  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, o: Obj) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const done = deferred<void>();
    this.watches.push({
      resourceVersion,
      signal,
      emit: (type, o) => onEvent(type, o),
      end: () => done.resolve(),
      fail: (err) => done.reject(err),
    });
    return done.promise;
  }

  lastWatch(): FakeWatch {
    const w = this.watches.at(-1);
    assert.ok(w, 'no watch was opened');
    return w;
  }

  lastList(): FakeList {
    const l = this.lists.at(-1);
    assert.ok(l, 'no list was made');
    return l;
  }
}

/** Wait (without sleeping) until `cond` holds; fail with `what` if it never does. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { logger, lines };
}

function setup(options: Partial<InformerOptions<Obj>> = {}) {
  const clock = new FakeClock(1_000_000);
  const source = new FakeSource();
  const { logger, lines } = captureLogger();
  const events: string[] = [];
  const handlers: InformerHandlers<Obj> = {
    onAdd: (o) => void events.push(`add ${objectKey(o)}@${o.metadata.resourceVersion}`),
    onUpdate: (a, b) =>
      void events.push(`update ${objectKey(b)}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
    onDelete: (o) => void events.push(`delete ${objectKey(o)}`),
  };
  const informer = new Informer<Obj>({
    name: 'things',
    source,
    logger,
    clock,
    handlers,
    resyncPeriodMs: 0,
    watchdogMs: 0,
    listTimeoutMs: 0,
    backoff: { initialMs: 500, maxMs: 8000, factor: 2, jitter: 0.5, random: () => 1 - Number.EPSILON },
    ...options,
  });
  return { clock, source, informer, events, lines };
}

/** Start and complete the initial list; returns once the first watch is open. */
async function startSynced(s: ReturnType<typeof setup>, items: Obj[], rv = '10'): Promise<FakeWatch> {
  s.informer.start();
  await until(() => s.source.lists.length === 1, 'initial list');
  s.source.lastList().reply.resolve({ items, resourceVersion: rv });
  await s.informer.waitForSync();
  await until(() => s.source.watches.length === 1, 'first watch');
  return s.source.lastWatch();
}

/** Delay of the only timer armed on the clock. */
function armedDelay(clock: FakeClock): number {
  const due = clock.nextDueAt();
  assert.ok(due !== undefined, 'expected a timer to be armed');
  return due - clock.now();
}

// ---- tests ----------------------------------------------------------------------

describe('Informer', () => {
  it('fills the store from the initial list, then watches from its resourceVersion', async () => {
    const s = setup();
    assert.equal(s.informer.hasSynced(), false);
    const watch = await startSynced(s, [
      obj('a', '3'),
      obj('b', '4', { metadata: { name: 'b', namespace: 'ns', resourceVersion: '4' } }),
    ]);
    assert.equal(s.informer.hasSynced(), true);
    assert.deepEqual(s.events, ['add a@3', 'add ns/b@4']);
    assert.equal(watch.resourceVersion, '10');
    assert.deepEqual(s.informer.keys().sort(), ['a', 'ns/b']);
    assert.equal(s.informer.get('ns/b')?.metadata.resourceVersion, '4');
    assert.equal(s.informer.list().length, 2);
    assert.equal(s.informer.stats().lists, 1);
    await s.informer.stop();
  });

  it('calls add/update/delete handlers in order, one at a time, awaiting each', async () => {
    const s = setup();
    const gate = deferred<void>();
    const log: string[] = [];
    const informer = new Informer<Obj>({
      name: 'ordered',
      source: s.source,
      logger: pino({ level: 'silent' }),
      clock: s.clock,
      watchdogMs: 0,
      resyncPeriodMs: 0,
      handlers: {
        onAdd: async (o) => {
          log.push(`add ${o.metadata.name} start`);
          if (o.metadata.name === 'slow') await gate.promise;
          log.push(`add ${o.metadata.name} end`);
        },
        onUpdate: (_old, o) => void log.push(`update ${o.metadata.name}`),
        onDelete: (o) => void log.push(`delete ${o.metadata.name}`),
      },
    });
    informer.start();
    await until(() => s.source.lists.length === 1, 'list');
    s.source.lastList().reply.resolve({ items: [], resourceVersion: '1' });
    await until(() => s.source.watches.length === 1, 'watch');
    const w = s.source.lastWatch();
    const first = w.emit('ADDED', obj('slow', '2'));
    const second = w.emit('MODIFIED', obj('slow', '3'));
    const third = w.emit('DELETED', obj('slow', '4'));
    await until(() => log.length === 1, 'first handler started');
    assert.deepEqual(log, ['add slow start'], 'later events wait for the slow handler');
    gate.resolve();
    await Promise.all([first, second, third]);
    assert.deepEqual(log, ['add slow start', 'add slow end', 'update slow', 'delete slow']);
    assert.equal(informer.get('slow'), undefined);
    assert.equal(informer.stats().lastResourceVersion, '4');
    await informer.stop();
  });

  it('treats ADDED for a cached key as an update, MODIFIED for an unknown key as an add, ignores unknown deletes', async () => {
    const s = setup();
    const w = await startSynced(s, [obj('a', '1')]);
    await w.emit('ADDED', obj('a', '2'));
    await w.emit('MODIFIED', obj('b', '3'));
    await w.emit('DELETED', obj('ghost', '4'));
    assert.deepEqual(s.events, ['add a@1', 'update a@1->2', 'add b@3']);
    await s.informer.stop();
  });

  it('resumes from the last resourceVersion (bookmarks included) after a dropped stream, without relisting', async () => {
    const s = setup();
    const w1 = await startSynced(s, [obj('a', '5')]);
    await w1.emit('MODIFIED', obj('a', '12'));
    await w1.emit('BOOKMARK', { metadata: { name: '', resourceVersion: '15' } });
    w1.fail(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    await until(() => s.clock.pendingTimers() === 1, 'backoff timer');
    assert.equal(armedDelay(s.clock), 500);
    s.clock.advance(500);
    await until(() => s.source.watches.length === 2, 'resumed watch');
    assert.equal(s.source.lastWatch().resourceVersion, '15');
    assert.equal(s.source.lists.length, 1, 'no relist for a dropped stream');
    assert.ok(w1.signal.aborted, 'the old stream is released');
    const logged = s.lines.find(
      (l) => l.msg === 'watch failed; resuming from the last resourceVersion with backoff',
    );
    assert.ok(logged, 'the failure is logged');
    assert.equal(logged.level, 40, 'a recovered drop is a warning');

    // A clean end (server-side timeoutSeconds) resumes the same way.
    s.source.lastWatch().end();
    await until(() => s.clock.pendingTimers() === 1, 'resume timer');
    s.clock.advance(armedDelay(s.clock));
    await until(() => s.source.watches.length === 3, 'second resume');
    assert.equal(s.source.lastWatch().resourceVersion, '15');
    const stats = s.informer.stats();
    assert.equal(stats.watchRestarts, 2);
    assert.equal(stats.watchErrors, 1);
    assert.equal(stats.lists, 1);
    await s.informer.stop();
  });

  it('on 410 Gone relists and emits synthetic add/update/delete for the difference', async () => {
    const relists: string[] = [];
    const s = setup({ hooks: { onList: (reason) => void relists.push(reason) } });
    const w1 = await startSynced(s, [obj('a', '1'), obj('b', '2'), obj('c', '3')]);
    s.events.length = 0;
    w1.fail(new ResourceVersionExpiredError({ resourceVersion: '10' }));
    await until(() => s.clock.pendingTimers() === 1, 'delay before relist');
    s.clock.advance(armedDelay(s.clock));
    await until(() => s.source.lists.length === 2, 'relist');
    s.source
      .lastList()
      .reply.resolve({ items: [obj('a', '1'), obj('b', '7'), obj('d', '8')], resourceVersion: '20' });
    await until(() => s.source.watches.length === 2, 'watch after relist');
    assert.deepEqual(s.events, ['delete c', 'update b@2->7', 'add d@8'], 'unchanged a is not re-delivered');
    assert.equal(s.source.lastWatch().resourceVersion, '20');
    assert.deepEqual(s.informer.keys().sort(), ['a', 'b', 'd']);
    assert.deepEqual(relists, ['initial', 'expired']);
    assert.ok(s.lines.some((l) => l.msg === 'resourceVersion expired (410 Gone); listing everything again'));
    await s.informer.stop();
  });

  it('relists after repeated watch failures that delivered nothing', async () => {
    const s = setup({ relistAfterWatchFailures: 3 });
    await startSynced(s, [obj('a', '1')]);
    for (let i = 1; i <= 3; i++) {
      s.source.lastWatch().fail(new Error(`boom ${i}`));
      await until(() => s.clock.pendingTimers() === 1, `backoff ${i}`);
      s.clock.advance(armedDelay(s.clock));
      if (i < 3) await until(() => s.source.watches.length === i + 1, `watch ${i + 1}`);
    }
    await until(() => s.source.lists.length === 2, 'relist after 3 failures');
    assert.equal(s.source.watches.length, 3);
    await s.informer.stop();
  });

  it('restarts a watch that stayed silent for watchdogMs, from the last resourceVersion', async () => {
    const restarts: string[] = [];
    const s = setup({ watchdogMs: 60_000, hooks: { onWatchRestart: (r) => void restarts.push(r) } });
    const w1 = await startSynced(s, []);
    s.clock.advance(59_999);
    await w1.emit('BOOKMARK', { metadata: { name: '', resourceVersion: '33' } });
    s.clock.advance(59_999);
    assert.equal(w1.signal.aborted, false, 'a bookmark re-arms the watchdog');
    s.clock.advance(1);
    assert.equal(w1.signal.aborted, true, 'silence for the full interval aborts the stream');
    await until(() => s.source.watches.length === 2, 'restarted watch');
    assert.equal(s.source.lastWatch().resourceVersion, '33');
    assert.deepEqual(restarts, ['watchdog']);
    assert.equal(s.informer.stats().watchdogRestarts, 1);
    assert.ok(s.lines.some((l) => l.level === 40 && String(l.msg).startsWith('watch delivered nothing')));
    await s.informer.stop();
  });

  it('does not count handler time as silence', async () => {
    const gate = deferred<void>();
    const s = setup({ watchdogMs: 1000, handlers: { onAdd: () => gate.promise } });
    const w1 = await startSynced(s, []);
    const pending = w1.emit('ADDED', obj('x', '11'));
    await until(() => s.clock.pendingTimers() === 0, 'watchdog paused during the handler');
    s.clock.advance(5000);
    assert.equal(w1.signal.aborted, false);
    gate.resolve();
    await pending;
    assert.equal(armedDelay(s.clock), 1000, 're-armed after the handler');
    await s.informer.stop();
  });

  it('calls onResync for every cached object each period', async () => {
    const resynced: string[] = [];
    const s = setup({ resyncPeriodMs: 10_000 });
    const informer = new Informer<Obj>({
      name: 'resync',
      source: s.source,
      logger: pino({ level: 'silent' }),
      clock: s.clock,
      watchdogMs: 0,
      resyncPeriodMs: 10_000,
      handlers: { onResync: (o) => void resynced.push(o.metadata.name) },
    });
    informer.start();
    await until(() => s.source.lists.length === 1, 'list');
    s.source.lastList().reply.resolve({ items: [obj('a', '1'), obj('b', '2')], resourceVersion: '5' });
    await informer.waitForSync();
    s.clock.advance(9_999);
    assert.deepEqual(resynced, []);
    s.clock.advance(1);
    await until(() => resynced.length === 2, 'first resync');
    assert.deepEqual(resynced.sort(), ['a', 'b']);
    await until(() => s.clock.pendingTimers() === 1, 'next resync armed');
    s.clock.advance(10_000);
    await until(() => resynced.length === 4, 'second resync');
    await informer.stop();
    assert.equal(s.clock.pendingTimers(), 0, 'stop disarms the resync timer');
  });

  it('retries a failing list with growing backoff, logging every failure, until it succeeds', async () => {
    const errors: string[] = [];
    const s = setup({ hooks: { onError: (phase) => void errors.push(phase) } });
    s.informer.start();
    const delays: number[] = [];
    for (let i = 1; i <= 4; i++) {
      await until(() => s.source.lists.length === i, `list attempt ${i}`);
      s.source.lastList().reply.reject(new Error('connect ECONNREFUSED 127.0.0.1:6443'));
      await until(() => s.clock.pendingTimers() === 1, `backoff ${i}`);
      delays.push(armedDelay(s.clock));
      s.clock.advance(delays.at(-1) ?? 0);
    }
    assert.deepEqual(delays, [500, 1000, 2000, 4000]);
    assert.deepEqual(errors, ['list', 'list', 'list', 'list']);
    assert.equal(s.lines.filter((l) => l.msg === 'list failed; retrying with backoff').length, 4);
    assert.equal(s.informer.hasSynced(), false);
    await until(() => s.source.lists.length === 5, 'fifth attempt');
    s.source.lastList().reply.resolve({ items: [obj('a', '1')], resourceVersion: '9' });
    await s.informer.waitForSync();
    assert.equal(s.informer.stats().listErrors, 4);
    await s.informer.stop();
  });

  it('aborts and retries a list that hangs past listTimeoutMs', async () => {
    const s = setup({ listTimeoutMs: 30_000 });
    s.informer.start();
    await until(() => s.source.lists.length === 1, 'first list');
    s.clock.advance(29_999);
    assert.equal(s.source.lastList().signal.aborted, false);
    s.clock.advance(1);
    assert.equal(s.source.lastList().signal.aborted, true, 'the hung request is aborted');
    await until(() => s.clock.pendingTimers() === 1, 'backoff after the timeout');
    s.clock.advance(armedDelay(s.clock));
    await until(() => s.source.lists.length === 2, 'second list');
    assert.equal(s.informer.stats().listErrors, 1);
    assert.ok(
      s.lines.some((l) => String((l.err as { message?: string })?.message).includes('listTimeoutMs')),
    );
    s.source.lastList().reply.resolve({ items: [], resourceVersion: '1' });
    await s.informer.waitForSync();
    await s.informer.stop();
  });

  it('stores objects without metadata.managedFields, from lists and from watch events', async () => {
    const s = setup();
    const managedFields = [{ manager: 'kubectl', operation: 'Apply' }];
    const w = await startSynced(s, [
      { metadata: { name: 'a', resourceVersion: '1', managedFields }, data: 'x' },
    ]);
    await w.emit('ADDED', { metadata: { name: 'b', resourceVersion: '2', managedFields }, data: 'y' });
    for (const key of ['a', 'b']) {
      const o = s.informer.get(key);
      assert.ok(o);
      assert.equal('managedFields' in o.metadata, false, `${key} keeps no managedFields`);
      assert.ok(o.data);
    }
    const original = { metadata: { name: 'c', resourceVersion: '3', managedFields } };
    trimManagedFields(original);
    assert.ok(original.metadata.managedFields, 'trimming copies; it never mutates the input');
    await s.informer.stop();
  });

  it('logs handler errors and keeps delivering', async () => {
    const s = setup({
      handlers: {
        onAdd: (o) => {
          if (o.metadata.name === 'bad') throw new Error('handler bug');
        },
      },
    });
    const w = await startSynced(s, []);
    await w.emit('ADDED', obj('bad', '2'));
    await w.emit('ADDED', obj('good', '3'));
    assert.ok(s.informer.get('good'));
    assert.equal(s.informer.stats().handlerErrors, 1);
    assert.ok(s.lines.some((l) => l.msg === 'informer handler failed; the cache keeps going'));
    await s.informer.stop();
  });

  it('stop() aborts the stream, rejects waiters, disarms timers and ignores late events', async () => {
    const s = setup({ watchdogMs: 1000, resyncPeriodMs: 1000, handlers: { onResync: () => {} } });
    const w = await startSynced(s, [obj('a', '1')]);
    await s.informer.stop();
    assert.equal(w.signal.aborted, true);
    assert.equal(s.clock.pendingTimers(), 0);
    await w.emit('ADDED', obj('late', '99'));
    assert.equal(s.informer.get('late'), undefined);
    assert.throws(() => s.informer.start(), /create a new Informer/);

    const s2 = setup();
    s2.informer.start();
    const waiting = s2.informer.waitForSync();
    await until(() => s2.source.lists.length === 1, 'list');
    await s2.informer.stop();
    await assert.rejects(waiting, InformerStoppedError);
    assert.equal(s2.source.lastList().signal.aborted, true, 'the list request is aborted too');
    await assert.rejects(s2.informer.waitForSync(), InformerStoppedError);
  });

  it('stop() completes even when the source ignores the abort signal', async () => {
    const s = setup();
    await startSynced(s, []);
    // The fake watch never settles on its own; stop must not wait for it.
    await s.informer.stop();
    assert.equal(s.informer.hasSynced(), true);
  });

  it('waitForSync honours its own abort signal', async () => {
    const s = setup();
    s.informer.start();
    const ac = new AbortController();
    const waiting = s.informer.waitForSync(ac.signal);
    ac.abort(new Error('gave up'));
    await assert.rejects(waiting, /gave up/);
    await s.informer.stop();
  });

  it('keys namespaced objects as namespace/name and cluster-scoped ones as name', () => {
    assert.equal(objectKey({ metadata: { name: 'x', namespace: 'ns' } }), 'ns/x');
    assert.equal(objectKey({ metadata: { name: 'x' } }), 'x');
    assert.throws(() => objectKey({ metadata: {} }), /metadata\.name/);
  });
});

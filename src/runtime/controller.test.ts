import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { FakeClock } from './clock.ts';
import { Controller, ControllerStoppedError, PermanentError, findPermanentError } from './controller.ts';
import type { ReconcileFn, ReconcileOutcome } from './controller.ts';
import { WorkQueue } from './queue.ts';

/** Waits (yielding to the event loop) until `condition` holds; fails after a deadline instead of hanging. */
async function waitFor(condition: () => boolean, what: string, deadlineMs = 5000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Whether the promise has settled once pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** A promise plus its resolve function. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function setup(reconcile: ReconcileFn<string>, options: { concurrency?: number; clock?: FakeClock } = {}) {
  const clock = options.clock ?? new FakeClock();
  const queue = new WorkQueue<string>({ clock });
  const { logger, lines } = capturingLogger();
  const outcomes: ReconcileOutcome[] = [];
  const controller = new Controller<string>({
    queue,
    reconcile,
    logger,
    clock,
    concurrency: options.concurrency ?? 1,
    permanentErrorRetryMs: 300_000,
    metrics: { observeReconcile: (result) => outcomes.push(result) },
  });
  return { controller, queue, clock, lines, outcomes };
}

describe('Controller', () => {
  it('reconciles at most `concurrency` keys at once', async () => {
    const release = gate();
    let active = 0;
    let maxActive = 0;
    const done: string[] = [];
    const { controller, queue } = setup(
      async (key) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await release.promise;
        active--;
        done.push(key);
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 10; i++) queue.add(`t${i}`);
    controller.start();
    await waitFor(() => active === 3, 'three reconciles in flight');
    assert.equal(controller.inFlight(), 3);
    assert.equal(queue.len(), 7, 'the rest wait in the queue');
    release.open();
    await waitFor(() => done.length === 10, 'all ten reconciled');
    assert.equal(maxActive, 3);
    await controller.stop();
  });

  it('never reconciles one key in two workers at once, and runs it again if it changed meanwhile', async () => {
    const release = gate();
    let activeA = 0;
    let maxActiveA = 0;
    let callsA = 0;
    const { controller, queue } = setup(
      async (key) => {
        if (key !== 'a') return;
        callsA++;
        activeA++;
        maxActiveA = Math.max(maxActiveA, activeA);
        if (callsA === 1) await release.promise;
        activeA--;
      },
      { concurrency: 4 },
    );
    controller.start();
    queue.add('a');
    await waitFor(() => activeA === 1, 'a in flight');
    queue.add('a');
    queue.add('a');
    queue.add('b');
    await waitFor(() => queue.len() === 0 && controller.inFlight() === 1, 'b done while a is held');
    assert.equal(callsA, 1, 'a was not handed to an idle worker');
    release.open();
    await waitFor(() => callsA === 2 && controller.inFlight() === 0, 'a reconciled once more');
    assert.equal(maxActiveA, 1);
    await controller.stop();
  });

  it('retries a failing key with growing backoff and forgets it on success', async () => {
    let calls = 0;
    const { controller, queue, clock, outcomes, lines } = setup(async () => {
      calls++;
      if (calls <= 3) throw new Error(`boom ${calls}`, { cause: new Error('connection refused') });
      return {};
    });
    controller.start();
    queue.add('acme');
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await waitFor(() => outcomes.length === attempt, `attempt ${attempt} finished`);
      assert.equal(queue.numRequeues('acme'), attempt);
      delays.push(clock.nextDueAt()! - clock.now());
      clock.set(clock.nextDueAt()!);
    }
    await waitFor(() => outcomes.length === 4, 'the successful attempt');
    assert.deepEqual(delays, [5, 10, 20]);
    assert.deepEqual(outcomes, ['error', 'error', 'error', 'success']);
    assert.equal(queue.numRequeues('acme'), 0, 'success forgets the backoff');
    assert.equal(clock.pendingTimers(), 0, 'no requeue after success');
    const errors = lines.filter((l) => l.msg === 'reconcile failed; retrying with backoff');
    assert.equal(errors.length, 3);
    assert.equal(errors[0]?.tenant, 'acme');
    assert.match((errors[0]?.err as { message: string }).message, /^boom 1\b.*connection refused/);
    await controller.stop();
  });

  it('requeues after the requested delay on success', async () => {
    let calls = 0;
    const { controller, queue, clock, outcomes } = setup(async () => {
      calls++;
      return calls === 1 ? { requeueAfterMs: 30_000 } : undefined;
    });
    controller.start();
    queue.add('acme');
    await waitFor(() => outcomes.length === 1, 'first reconcile');
    assert.deepEqual(outcomes, ['requeue']);
    assert.equal(clock.nextDueAt(), 30_000);
    assert.equal(queue.numRequeues('acme'), 0);
    clock.advance(29_999);
    assert.equal(calls, 1);
    clock.advance(1);
    await waitFor(() => outcomes.length === 2, 'requeued reconcile');
    assert.deepEqual(outcomes, ['requeue', 'success']);
    await controller.stop();
  });

  it('does not retry a permanent error hot: it comes back only after the long delay', async () => {
    let calls = 0;
    const { controller, queue, clock, outcomes, lines } = setup(async () => {
      calls++;
      throw new Error('apply failed', {
        cause: new PermanentError('namespace tenant-acme belongs to someone else'),
      });
    });
    controller.start();
    queue.add('acme');
    await waitFor(() => outcomes.length === 1, 'first attempt');
    assert.equal(queue.numRequeues('acme'), 0, 'no backoff recorded');
    assert.equal(clock.nextDueAt(), 300_000);
    clock.advance(299_999);
    assert.equal(calls, 1);
    clock.advance(1);
    await waitFor(() => outcomes.length === 2, 'retry after the long delay');
    const log = lines.find((l) => l.permanent === true);
    assert.equal(log?.tenant, 'acme');
    assert.equal(log?.level, 50);
    await controller.stop();
  });

  it('honours a PermanentError’s own retry delay', async () => {
    const { controller, queue, clock, outcomes } = setup(async () => {
      throw new PermanentError('bad spec', { retryAfterMs: 42_000 });
    });
    controller.start();
    queue.add('acme');
    await waitFor(() => outcomes.length === 1, 'attempt');
    assert.equal(clock.nextDueAt(), 42_000);
    await controller.stop();
  });

  it('passes a logger with the tenant field to reconcile', async () => {
    const { controller, queue, lines } = setup(async (_key, { logger }) => {
      logger.info('hello from reconcile');
    });
    controller.start();
    queue.add('acme');
    await waitFor(() => lines.some((l) => l.msg === 'hello from reconcile'), 'reconcile log line');
    assert.equal(lines.find((l) => l.msg === 'hello from reconcile')?.tenant, 'acme');
    await controller.stop();
  });

  it('stop() takes no new work and resolves only after in-flight reconciles finish', async () => {
    const release = gate();
    const started: string[] = [];
    const finished: string[] = [];
    let signal: AbortSignal | undefined;
    const { controller, queue } = setup(
      async (key, ctx) => {
        started.push(key);
        signal = ctx.signal;
        await release.promise;
        finished.push(key);
      },
      { concurrency: 2 },
    );
    queue.add('a');
    queue.add('b');
    queue.add('c');
    controller.start();
    await waitFor(() => started.length === 2, 'two in flight');
    const stopped = controller.stop();
    assert.equal(await settled(stopped), false, 'stop waits for in-flight work');
    queue.add('d'); // ignored after stop
    release.open();
    await stopped;
    assert.deepEqual(finished.sort(), ['a', 'b']);
    assert.deepEqual(started.sort(), ['a', 'b'], 'queued keys are not started after stop');
    assert.equal(signal?.aborted, false, 'a draining stop does not abort');
    assert.equal(controller.inFlight(), 0);
    assert.equal(controller.stop(), stopped, 'stop is idempotent');
    assert.throws(() => controller.start(), ControllerStoppedError);
  });

  it('stop({drain: false}) aborts in-flight reconciles and waits for them to settle', async () => {
    let aborted = false;
    let running = false;
    const { controller, queue, outcomes } = setup(async (_key, { signal }) => {
      running = true;
      await new Promise<void>((_resolve, reject) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          reject(signal.reason);
        }),
      );
    });
    controller.start();
    queue.add('a');
    await waitFor(() => running, 'reconcile running');
    await controller.stop({ drain: false });
    assert.equal(aborted, true);
    assert.deepEqual(outcomes, ['error']);
    assert.equal(queue.delayedLen(), 0, 'an aborted key is not requeued');
  });

  it('stop({abortAfterMs}) aborts reconciles that outlive the grace period', async () => {
    let running = false;
    const { controller, queue, clock } = setup(
      (_key, { signal }) =>
        new Promise<void>((resolve) => {
          running = true;
          signal.addEventListener('abort', () => resolve());
        }),
    );
    controller.start();
    queue.add('a');
    await waitFor(() => running, 'reconcile running');
    const stopped = controller.stop({ abortAfterMs: 10_000 });
    clock.advance(9_999);
    assert.equal(await settled(stopped), false);
    clock.advance(1);
    await stopped;
    assert.equal(clock.pendingTimers(), 0);
  });

  it('rejects a concurrency below 1', () => {
    assert.throws(() => setup(async () => {}, { concurrency: 0 }), RangeError);
  });
});

describe('findPermanentError', () => {
  it('finds a PermanentError anywhere in the cause chain, and nothing in ordinary errors', () => {
    const permanent = new PermanentError('needs a person');
    assert.equal(findPermanentError(permanent), permanent);
    assert.equal(
      findPermanentError(new Error('outer', { cause: new Error('mid', { cause: permanent }) })),
      permanent,
    );
    assert.equal(findPermanentError(new Error('plain')), undefined);
    assert.equal(findPermanentError('not an error'), undefined);
    const loop = new Error('loop');
    (loop as { cause?: unknown }).cause = loop;
    assert.equal(findPermanentError(loop), undefined);
  });
});

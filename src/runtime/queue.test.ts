import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.ts';
import { ItemExponentialRateLimiter } from './rate-limiter.ts';
import { WorkQueue } from './queue.ts';

/** Resolves with the promise's value, or 'pending' if it has not settled after the microtask queue drains. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  const marker = Symbol('pending');
  const result = await Promise.race([
    promise,
    new Promise<typeof marker>((r) => setImmediate(() => r(marker))),
  ]);
  return result === marker ? 'pending' : (result as T);
}

function newQueue(clock = new FakeClock()) {
  const depths: number[] = [];
  const queue = new WorkQueue<string>({ clock, onDepthChange: (d) => depths.push(d) });
  return { queue, clock, depths };
}

describe('WorkQueue', () => {
  it('hands out a key added many times only once', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    queue.add('a');
    assert.equal(queue.len(), 2);
    assert.equal(await queue.get(), 'a');
    assert.equal(await queue.get(), 'b');
    assert.equal(queue.len(), 0);
    assert.equal(await peek(queue.get()), 'pending');
    queue.shutDown();
  });

  it('wakes a waiting getter when a key arrives', async () => {
    const { queue } = newQueue();
    const pending = queue.get();
    assert.equal(await peek(pending), 'pending');
    queue.add('x');
    assert.equal(await pending, 'x');
    assert.equal(queue.processingLen(), 1);
  });

  it('never hands a key in process to a second worker, and re-queues it when done if it was added meanwhile', async () => {
    const { queue } = newQueue();
    queue.add('a');
    assert.equal(await queue.get(), 'a');

    queue.add('a'); // dirty while processing
    queue.add('a');
    assert.equal(queue.len(), 0, 'a key in process is not queued');
    const second = queue.get();
    assert.equal(await peek(second), 'pending');

    queue.done('a');
    assert.equal(await second, 'a', 'dirty key comes back once after done');
    queue.done('a');
    assert.equal(queue.len(), 0);
    assert.equal(await peek(queue.get()), 'pending');
    queue.shutDown();
  });

  it('does not re-queue a key that was not added while processing', async () => {
    const { queue } = newQueue();
    queue.add('a');
    await queue.get();
    queue.done('a');
    assert.equal(queue.len(), 0);
  });

  it('keeps FIFO order among distinct keys', async () => {
    const { queue } = newQueue();
    for (const k of ['c', 'a', 'b']) queue.add(k);
    assert.deepEqual([await queue.get(), await queue.get(), await queue.get()], ['c', 'a', 'b']);
  });

  it('hands out higher priorities first, FIFO within one', async () => {
    const { queue } = newQueue();
    queue.add('resync-1', 'low');
    queue.add('new-1');
    queue.add('child-1', 'high');
    queue.add('new-2', 'normal');
    queue.add('resync-2', 'low');
    queue.add('child-2', 'high');
    const order: string[] = [];
    for (let i = 0; i < 6; i++) order.push((await queue.get())!);
    assert.deepEqual(order, ['child-1', 'child-2', 'new-1', 'new-2', 'resync-1', 'resync-2']);
  });

  it('raises a waiting key to the higher priority, and never lowers it', async () => {
    const { queue } = newQueue();
    queue.add('a', 'low');
    queue.add('b', 'normal');
    queue.add('a', 'high');
    queue.add('b', 'low');
    assert.equal(queue.len(), 2, 'still each once');
    assert.deepEqual([queue.lenAt('high'), queue.lenAt('normal'), queue.lenAt('low')], [1, 1, 0]);
    assert.deepEqual([await queue.get(), await queue.get()], ['a', 'b']);
  });

  it('re-queues a key added while processing at the priority it was added with', async () => {
    const { queue } = newQueue();
    queue.add('a');
    assert.equal(await queue.get(), 'a');
    queue.add('b', 'normal');
    queue.add('a', 'high');
    queue.done('a');
    assert.equal(await queue.get(), 'a', 'ahead of b');
  });

  it('releases a delayed key at the priority it was delayed with', async () => {
    const { queue, clock } = newQueue();
    queue.add('n', 'normal');
    queue.addAfter('h', 100, 'high');
    clock.advance(100);
    assert.equal(await queue.get(), 'h');
    assert.equal(await queue.get(), 'n');
  });

  it('releases delayed keys in due-time order as the clock moves', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('late', 300);
    queue.addAfter('early', 100);
    queue.addAfter('mid', 200);
    queue.addAfter('mid2', 200);
    assert.equal(queue.len(), 0);
    assert.equal(queue.delayedLen(), 4);

    clock.advance(99);
    assert.equal(queue.len(), 0);
    clock.advance(1);
    assert.equal(queue.len(), 1);
    clock.advance(200);
    assert.equal(queue.len(), 4);
    const order = [await queue.get(), await queue.get(), await queue.get(), await queue.get()];
    assert.deepEqual(order, ['early', 'mid', 'mid2', 'late']);
    assert.equal(clock.pendingTimers(), 0, 'no timer left armed');
  });

  it('keeps the earlier time when a waiting key is added again with a delay', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('a', 500);
    queue.addAfter('a', 100); // earlier: wins
    queue.addAfter('a', 900); // later: ignored
    assert.equal(queue.delayedLen(), 1);
    clock.advance(100);
    assert.equal(queue.len(), 1);
    assert.equal(await queue.get(), 'a');
    queue.done('a');
    clock.advance(1000);
    assert.equal(queue.len(), 0, 'the superseded delays do not fire again');
  });

  it('de-duplicates a delayed key with one already queued', async () => {
    const { queue, clock } = newQueue();
    queue.add('a');
    queue.addAfter('a', 10);
    clock.advance(10);
    assert.equal(queue.len(), 1);
  });

  it('adds at once for a non-positive delay', () => {
    const { queue } = newQueue();
    queue.addAfter('a', 0);
    queue.addAfter('b', -5);
    assert.equal(queue.len(), 2);
  });

  it('backs off exponentially per key and resets on forget', () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({
      clock,
      rateLimiter: new ItemExponentialRateLimiter<string>({ baseDelayMs: 5, maxDelayMs: 1000 }),
    });
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      queue.addRateLimited('a');
      const due = clock.nextDueAt();
      assert.ok(due !== undefined);
      delays.push(due - clock.now());
      clock.set(due);
      assert.equal(queue.len(), 1);
      void queue.get();
      queue.done('a');
    }
    assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    assert.equal(queue.numRequeues('a'), 10);
    assert.equal(queue.numRequeues('b'), 0, 'backoff is per key');

    queue.forget('a');
    assert.equal(queue.numRequeues('a'), 0);
    queue.addRateLimited('a');
    assert.equal(clock.nextDueAt()! - clock.now(), 5, 'back to the base delay after forget');
    queue.shutDown();
  });

  it('uses the default controller rate limiter (exponential backoff from 5 ms)', () => {
    const { queue, clock } = newQueue();
    queue.addRateLimited('a');
    assert.equal(clock.nextDueAt(), 5);
    queue.addRateLimited('a'); // still waiting: the earlier time (5) wins
    assert.equal(queue.numRequeues('a'), 2);
    clock.advance(5);
    assert.equal(queue.len(), 1);
  });

  it('reports depth changes through the hook', async () => {
    const { queue, depths } = newQueue();
    queue.add('a');
    queue.add('b');
    queue.add('b');
    await queue.get();
    await queue.get();
    assert.deepEqual(depths, [1, 2, 1, 0]);
  });

  it('after shutDown: getters resolve undefined, adds are ignored, timers are cleared', async () => {
    const { queue, clock } = newQueue();
    const waiting = queue.get();
    queue.addAfter('later', 100);
    queue.shutDown();
    assert.equal(await waiting, undefined);
    // the pending get was resolved by shutDown; nothing else was queued
    assert.equal(clock.pendingTimers(), 0);
    queue.add('a');
    queue.addAfter('b', 10);
    queue.addRateLimited('c');
    assert.equal(queue.len(), 0);
    assert.equal(queue.delayedLen(), 0);
    assert.equal(await queue.get(), undefined);
    assert.equal(queue.isShuttingDown(), true);
  });

  it('after shutDown: keys still queued are not handed out', async () => {
    const { queue, depths } = newQueue();
    queue.add('a');
    queue.add('b');
    queue.shutDown();
    assert.equal(await queue.get(), undefined);
    assert.equal(queue.len(), 0);
    assert.equal(depths.at(-1), 0);
  });

  it('shutDownWithDrain waits until every key in process is done', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    const a = await queue.get();
    const b = await queue.get();
    queue.add('a'); // dirty: must not come back after shutdown
    const drained = queue.shutDownWithDrain();
    assert.equal(await peek(drained), 'pending');
    queue.done(a!);
    assert.equal(await peek(drained), 'pending');
    assert.equal(queue.len(), 0, 'a dirty key is not re-queued during shutdown');
    queue.done(b!);
    assert.equal(await peek(drained), undefined);
  });

  it('shutDownWithDrain resolves at once when nothing is in process', async () => {
    const { queue } = newQueue();
    assert.equal(await peek(queue.shutDownWithDrain()), undefined);
  });

  it('works with the system clock', async () => {
    const queue = new WorkQueue<string>();
    queue.addAfter('a', 1);
    assert.equal(await queue.get(), 'a');
    queue.shutDown();
  });
});

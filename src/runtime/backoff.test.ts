import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, sleep } from './backoff.ts';
import { FakeClock } from './clock.ts';

describe('Backoff', () => {
  it('grows by the factor and stops at the cap', () => {
    const clock = new FakeClock();
    const b = new Backoff({ clock, initialMs: 100, maxMs: 1000, factor: 2, jitter: 0, resetAfterMs: 1e9 });
    assert.deepEqual(
      Array.from({ length: 6 }, () => b.next()),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(b.attempt, 6);
  });

  it('jitters within [d·(1-jitter), d] and never above the cap', () => {
    const clock = new FakeClock();
    const low = new Backoff({ clock, initialMs: 1000, maxMs: 1000, jitter: 0.5, random: () => 0 });
    const high = new Backoff({ clock, initialMs: 1000, maxMs: 1000, jitter: 0.5, random: () => 0.999999 });
    assert.equal(low.next(), 500);
    assert.equal(high.next(), 1000);
  });

  it('starts over once no failure happened for resetAfterMs', () => {
    const clock = new FakeClock();
    const b = new Backoff({ clock, initialMs: 100, maxMs: 10_000, jitter: 0, resetAfterMs: 5000 });
    b.next();
    b.next();
    clock.advance(4999);
    assert.equal(b.next(), 400, 'still within the unhealthy window');
    clock.advance(5000);
    assert.equal(b.next(), 100, 'healthy for resetAfterMs: back to the initial delay');
  });

  it('reset() starts over at once', () => {
    const b = new Backoff({ clock: new FakeClock(), initialMs: 10, jitter: 0 });
    b.next();
    b.next();
    b.reset();
    assert.equal(b.next(), 10);
  });

  it('rejects nonsensical settings with a clear error', () => {
    assert.throws(() => new Backoff({ clock: new FakeClock(), initialMs: 0 }), /initialMs/);
    assert.throws(() => new Backoff({ clock: new FakeClock(), initialMs: 10, maxMs: 5 }), /maxMs/);
  });
});

describe('sleep', () => {
  it('resolves when the clock reaches the delay', async () => {
    const clock = new FakeClock();
    let done = false;
    const p = sleep(clock, 100).then(() => (done = true));
    clock.advance(99);
    await Promise.resolve();
    assert.equal(done, false);
    clock.advance(1);
    await p;
    assert.equal(done, true);
  });

  it('resolves early and disarms its timer when the signal aborts', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const p = sleep(clock, 100, ac.signal);
    assert.equal(clock.pendingTimers(), 1);
    ac.abort();
    await p;
    assert.equal(clock.pendingTimers(), 0);
    await sleep(clock, 100, ac.signal); // already aborted: returns at once
  });
});

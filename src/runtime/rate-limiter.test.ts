import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.ts';
import {
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  TokenBucketRateLimiter,
  createDefaultControllerRateLimiter,
} from './rate-limiter.ts';

describe('ItemExponentialRateLimiter', () => {
  it('doubles from 5 ms per failure, caps at 1000 s, and resets on forget', () => {
    const limiter = new ItemExponentialRateLimiter<string>();
    const delays = Array.from({ length: 30 }, () => limiter.when('a'));
    assert.deepEqual(delays.slice(0, 4), [5, 10, 20, 40]);
    assert.equal(delays[17], 5 * 2 ** 17);
    assert.equal(delays[18], 1_000_000, 'capped at 1000 s');
    assert.equal(delays[29], 1_000_000);
    assert.equal(limiter.numRequeues('a'), 30);
    assert.equal(limiter.when('b'), 5, 'keys back off independently');
    limiter.forget('a');
    assert.equal(limiter.numRequeues('a'), 0);
    assert.equal(limiter.when('a'), 5);
  });

  it('does not overflow after very many failures', () => {
    const limiter = new ItemExponentialRateLimiter<string>({ baseDelayMs: 5, maxDelayMs: 60_000 });
    let last = 0;
    for (let i = 0; i < 2000; i++) last = limiter.when('a');
    assert.equal(last, 60_000);
  });

  it('rejects nonsensical settings', () => {
    assert.throws(() => new ItemExponentialRateLimiter({ baseDelayMs: 10, maxDelayMs: 5 }), RangeError);
  });
});

describe('TokenBucketRateLimiter', () => {
  it('lets a burst through, then spaces items at 1/qps, and refills over time', () => {
    const clock = new FakeClock();
    const limiter = new TokenBucketRateLimiter<string>({ clock, qps: 10, burst: 3 });
    assert.deepEqual(
      [1, 2, 3].map((i) => limiter.when(`k${i}`)),
      [0, 0, 0],
    );
    assert.equal(limiter.when('k4'), 100);
    assert.equal(limiter.when('k5'), 200);
    clock.advance(1000); // +10 tokens, capped at burst 3, minus the 2 owed
    assert.equal(limiter.when('k6'), 0);
    assert.equal(limiter.numRequeues('k6'), 0);
  });
});

describe('default controller rate limiter', () => {
  it('takes the larger of the per-item backoff and the bucket', () => {
    const clock = new FakeClock();
    const limiter = createDefaultControllerRateLimiter<string>({ clock, qps: 1, burst: 2 });
    assert.equal(limiter.when('a'), 5); // bucket has tokens: backoff wins
    assert.equal(limiter.when('b'), 5);
    assert.equal(limiter.when('c'), 1000); // bucket empty: 1 s at 1 qps wins over 5 ms
    assert.equal(limiter.numRequeues('a'), 1);
    limiter.forget('a');
    assert.equal(limiter.numRequeues('a'), 0);
  });

  it('MaxOfRateLimiter needs a limiter', () => {
    assert.throws(() => new MaxOfRateLimiter([]), RangeError);
  });
});

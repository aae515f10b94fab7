import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, createSystemClock } from './clock.ts';

describe('FakeClock', () => {
  it('fires due timers in order, including ones armed while advancing', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 5);
    }, 10);
    const cancelled = clock.setTimeout(() => fired.push('never'), 15);
    clock.clearTimeout(cancelled);
    clock.advance(9);
    assert.deepEqual(fired, []);
    clock.advance(100);
    assert.deepEqual(fired, ['a@1010', 'c@1015', 'b@1020']);
    assert.equal(clock.now(), 1109);
    assert.equal(clock.pendingTimers(), 0);
    assert.equal(clock.nextDueAt(), undefined);
  });

  it('refuses to go back in time', () => {
    const clock = new FakeClock(10);
    assert.throws(() => clock.set(5), RangeError);
    assert.throws(() => clock.advance(-1), RangeError);
  });
});

describe('system clock', () => {
  it('runs and cancels real timers', async () => {
    const clock = createSystemClock();
    const start = clock.now();
    const cancelled = clock.setTimeout(() => assert.fail('cancelled timer fired'), 0);
    clock.clearTimeout(cancelled);
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 1));
    assert.ok(clock.now() >= start);
  });
});

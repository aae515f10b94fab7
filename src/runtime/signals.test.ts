import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { installSignalHandlers } from './signals.ts';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves with the first exit code passed to the fake exit. */
function fakeExit() {
  const codes: number[] = [];
  let notify: (code: number) => void = () => {};
  const first = new Promise<number>((resolve) => (notify = resolve));
  return {
    codes,
    first,
    exit: (code: number) => {
      codes.push(code);
      notify(code);
    },
  };
}

describe('installSignalHandlers', () => {
  it('runs shutdown once on the first signal and exits 0 when it completes', async () => {
    const source = new EventEmitter();
    const exit = fakeExit();
    const gate = deferred();
    const calls: string[] = [];
    const handlers = installSignalHandlers({
      source,
      exit: exit.exit,
      shutdown: async (signal) => {
        calls.push(signal);
        await gate.promise;
      },
    });
    assert.equal(handlers.shuttingDown, false);
    source.emit('SIGTERM', 'SIGTERM');
    assert.equal(handlers.shuttingDown, true);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, ['SIGTERM']);
    assert.deepEqual(exit.codes, [], 'no exit before shutdown finished');
    gate.resolve();
    assert.equal(await exit.first, 0);
    assert.deepEqual(calls, ['SIGTERM'], 'shutdown ran once');
    handlers.uninstall();
    assert.equal(source.listenerCount('SIGTERM'), 0);
    assert.equal(source.listenerCount('SIGINT'), 0);
  });

  it('forces exit on a second signal while shutdown is still running', async () => {
    const source = new EventEmitter();
    const exit = fakeExit();
    let calls = 0;
    installSignalHandlers({
      source,
      exit: exit.exit,
      shutdown: () => {
        calls++;
        return new Promise<void>(() => {}); // hangs
      },
    });
    source.emit('SIGINT', 'SIGINT');
    source.emit('SIGINT', 'SIGINT');
    assert.equal(await exit.first, 130);
    source.emit('SIGTERM', 'SIGTERM');
    assert.deepEqual(exit.codes, [130, 143]);
    assert.equal(calls, 1);
  });

  it('exits 1 when shutdown fails (also when it throws synchronously)', async () => {
    for (const shutdown of [
      () => Promise.reject(new Error('lease release failed')),
      () => {
        throw new Error('sync failure');
      },
    ]) {
      const source = new EventEmitter();
      const exit = fakeExit();
      installSignalHandlers({ source, exit: exit.exit, shutdown });
      source.emit('SIGTERM', 'SIGTERM');
      assert.equal(await exit.first, 1);
    }
  });

  it('listens only to the signals it was given', () => {
    const source = new EventEmitter();
    installSignalHandlers({ source, signals: ['SIGHUP'], exit: () => {}, shutdown: async () => {} });
    assert.equal(source.listenerCount('SIGHUP'), 1);
    assert.equal(source.listenerCount('SIGTERM'), 0);
  });
});

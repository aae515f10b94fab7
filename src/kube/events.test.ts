import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { KubeApiError } from './errors.ts';
import { EVENT_NAMESPACE, REPORTING_CONTROLLER, createEventRecorder } from './events.ts';
import type { KubeRest, RequestOptions } from './rest.ts';

interface Sent {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

/** A KubeRest whose requests wait until the test lets them through (or fail). */
function gatedRest() {
  const sent: Sent[] = [];
  const waiting: Array<{ release: () => void; fail: (error: Error) => void }> = [];
  let open = false;
  const rest: KubeRest = {
    request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
      sent.push({ method, path, body: options.body as Record<string, unknown> });
      if (open) return Promise.resolve({} as T);
      return new Promise<T>((resolve, reject) => {
        waiting.push({ release: () => resolve({} as T), fail: reject });
      });
    },
    server: 'http://gated.invalid',
    stream: () => Promise.reject(new Error('not used')),
    send: () => Promise.reject(new Error('not used')),
    close: async () => {},
  };
  return {
    rest,
    sent,
    waiting,
    /** Answer everything from now on at once. */
    openGate() {
      open = true;
      for (const w of waiting.splice(0)) w.release();
    },
  };
}

function recorderOn(
  rest: KubeRest,
  options: { maxPending?: number; concurrency?: number; onDropped?: (type: string) => void } = {},
) {
  const lines: Array<{ msg?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { msg?: string });
      done();
    },
  });
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const recorder = createEventRecorder({
    rest,
    logger: pino({ level: 'warn' }, stream),
    instance: 'test-instance',
    now: () => new Date(clock),
    ...options,
  });
  return { recorder, lines, advance: (ms: number) => (clock += ms) };
}

const tenant = { name: 'acme', uid: 'uid-1' };

describe('event recorder', () => {
  it('returns before the API server answers, then writes the Event as client-go does', async () => {
    const api = gatedRest();
    const { recorder } = recorderOn(api.rest);
    await recorder.record(tenant, 'Normal', 'Created', 'Created namespace tenant-acme');
    assert.equal(api.waiting.length, 1, 'the request is in flight, and record() already returned');
    api.openGate();
    await recorder.flush();
    assert.equal(api.sent.length, 1);
    const [post] = api.sent;
    assert.equal(post?.method, 'POST');
    assert.equal(post?.path, `/api/v1/namespaces/${EVENT_NAMESPACE}/events`);
    assert.deepEqual(post?.body['involvedObject'], {
      apiVersion: 'neurallog.io/v1',
      kind: 'Tenant',
      name: 'acme',
      uid: 'uid-1',
    });
    assert.equal(post?.body['reason'], 'Created');
    assert.equal(post?.body['count'], 1);
    assert.equal(post?.body['reportingComponent'], REPORTING_CONTROLLER);
    assert.equal(post?.body['reportingInstance'], 'test-instance');
  });

  it('writes events in parallel, Warnings before Normal ones, oldest first', async () => {
    const api = gatedRest();
    const { recorder } = recorderOn(api.rest, { concurrency: 2 });
    for (const what of ['namespace', 'Redis Service', 'Server Deployment']) {
      await recorder.record(tenant, 'Normal', 'Created', `Created ${what}`);
    }
    await recorder.record(tenant, 'Warning', 'QuotaTooSmall', 'too small');
    assert.equal(api.waiting.length, 2, 'two requests at once');
    assert.equal(recorder.pending(), 2);
    api.openGate();
    await recorder.flush();
    assert.deepEqual(
      api.sent.map((s) => s.body['message']),
      ['Created namespace', 'Created Redis Service', 'too small', 'Created Server Deployment'],
    );
  });

  it('never writes the same event twice at once, so a repeat is aggregated in order', async () => {
    const api = gatedRest();
    const { recorder } = recorderOn(api.rest, { concurrency: 4 });
    await recorder.record(tenant, 'Warning', 'AuthServiceUnavailable', 'down');
    await recorder.record(tenant, 'Warning', 'AuthServiceUnavailable', 'down');
    assert.equal(api.waiting.length, 1, 'the repeat waits for the first');
    api.openGate();
    await recorder.flush();
    assert.deepEqual(
      api.sent.map((s) => s.method),
      ['POST', 'PATCH'],
    );
  });

  it('aggregates an identical event within 10 minutes into a count, and starts again after', async () => {
    const api = gatedRest();
    api.openGate();
    const { recorder, advance } = recorderOn(api.rest);
    await recorder.record(tenant, 'Warning', 'AuthServiceUnavailable', 'down');
    advance(60_000);
    await recorder.record(tenant, 'Warning', 'AuthServiceUnavailable', 'down');
    advance(11 * 60_000);
    await recorder.record(tenant, 'Warning', 'AuthServiceUnavailable', 'down');
    await recorder.flush();
    assert.deepEqual(
      api.sent.map((s) => s.method),
      ['POST', 'PATCH', 'POST'],
    );
    const name = (api.sent[0]?.body['metadata'] as { name: string }).name;
    assert.equal(api.sent[1]?.path, `/api/v1/namespaces/${EVENT_NAMESPACE}/events/${name}`);
    assert.equal(api.sent[1]?.body['count'], 2);
    assert.equal(api.sent[1]?.body['lastTimestamp'], '2026-01-01T00:01:00.000Z');
  });

  it('creates a new Event when the aggregated one is gone (404 on the patch)', async () => {
    const api = gatedRest();
    const { recorder } = recorderOn(api.rest);
    await recorder.record(tenant, 'Normal', 'Updated', 'Updated Server Deployment');
    await recorder.record(tenant, 'Normal', 'Updated', 'Updated Server Deployment');
    api.waiting.shift()?.release();
    await new Promise((resolve) => setImmediate(resolve));
    api.waiting
      .shift()
      ?.fail(new KubeApiError({ method: 'PATCH', path: '/x', status: 404, body: { reason: 'NotFound' } }));
    api.openGate();
    await recorder.flush();
    assert.deepEqual(
      api.sent.map((s) => s.method),
      ['POST', 'PATCH', 'POST'],
    );
  });

  it('never lets a failed write escape, and keeps sending the next ones', async () => {
    const api = gatedRest();
    const { recorder, lines } = recorderOn(api.rest);
    await recorder.record(tenant, 'Normal', 'Created', 'one');
    await recorder.record(tenant, 'Normal', 'Created', 'two');
    api.waiting.shift()?.fail(new Error('connection reset'));
    api.openGate();
    await recorder.flush();
    assert.deepEqual(
      api.sent.map((s) => s.body['message']),
      ['one', 'two'],
    );
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['could not record event'],
    );
  });

  it('drops events beyond its bound instead of growing or blocking — Normal ones first — and counts them', async () => {
    const api = gatedRest();
    const dropped: string[] = [];
    const { recorder, lines } = recorderOn(api.rest, {
      maxPending: 2,
      concurrency: 1,
      onDropped: (type) => dropped.push(type),
    });
    for (let i = 0; i < 5; i++) await recorder.record(tenant, 'Normal', 'Created', `event ${i}`);
    // The first is in flight (not pending); two wait; two are dropped.
    assert.equal(recorder.pending(), 2);
    assert.deepEqual(dropped, ['Normal', 'Normal']);
    // A Warning takes the place of the oldest waiting Normal event.
    await recorder.record(tenant, 'Warning', 'ApplyFailed', 'could not write');
    assert.deepEqual(dropped, ['Normal', 'Normal', 'Normal']);
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['event queue full; dropping events'],
    );
    api.openGate();
    await recorder.flush();
    assert.deepEqual(
      api.sent.map((s) => s.body['message']),
      ['event 0', 'could not write', 'event 2'],
    );
  });

  it('flush gives up after its timeout when the API server does not answer', async () => {
    const api = gatedRest();
    const { recorder } = recorderOn(api.rest);
    await recorder.record(tenant, 'Normal', 'Created', 'stuck');
    await recorder.flush(20);
    assert.equal(api.waiting.length, 1, 'still waiting for the API server, but flush returned');
  });
});

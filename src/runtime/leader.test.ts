import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { FakeClock } from './clock.ts';
import { LeaderElector, LeaseConflictError, defaultLeaderIdentity } from './leader.ts';
import type {
  LeaderElectorOptions,
  LeaseClient,
  LeaseRecord,
  LeaseSnapshot,
  StoppedLeadingReason,
} from './leader.ts';

/** One Lease object, shared by every candidate, with resourceVersion concurrency like the API server. */
class FakeLeaseStore {
  current: LeaseSnapshot | undefined;
  #rv = 0;
  writes: LeaseRecord[] = [];

  write(record: LeaseRecord): LeaseSnapshot {
    this.current = { record: { ...record }, resourceVersion: String(++this.#rv) };
    this.writes.push({ ...record });
    return structuredClone(this.current);
  }
}

type Fault = 'none' | 'error' | 'hang' | 'conflict-once';

/** A candidate's view of the store; faults simulate a partitioned or slow API server. */
class FakeLeaseClient implements LeaseClient {
  readonly description = 'lease test/leader';
  fault: Fault = 'none';
  readonly store: FakeLeaseStore;

  constructor(store: FakeLeaseStore) {
    this.store = store;
  }

  async #gate(signal: AbortSignal): Promise<void> {
    if (this.fault === 'error') throw new Error('connect ECONNREFUSED');
    if (this.fault === 'hang') {
      await new Promise<never>((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
      );
    }
  }

  async get(signal: AbortSignal): Promise<LeaseSnapshot | undefined> {
    await this.#gate(signal);
    return this.store.current && structuredClone(this.store.current);
  }

  async create(record: LeaseRecord, signal: AbortSignal): Promise<LeaseSnapshot> {
    await this.#gate(signal);
    if (this.store.current) throw new LeaseConflictError(this.description);
    return this.store.write(record);
  }

  async update(record: LeaseRecord, resourceVersion: string, signal: AbortSignal): Promise<LeaseSnapshot> {
    await this.#gate(signal);
    if (this.fault === 'conflict-once') {
      this.fault = 'none';
      throw new LeaseConflictError(this.description);
    }
    if (this.store.current?.resourceVersion !== resourceVersion)
      throw new LeaseConflictError(this.description);
    return this.store.write(record);
  }
}

interface Candidate {
  elector: LeaderElector;
  client: FakeLeaseClient;
  stopped: StoppedLeadingReason[];
  started: AbortSignal[];
  done: Promise<void> | undefined;
}

function world() {
  const clock = new FakeClock(1_700_000_000_000);
  const store = new FakeLeaseStore();
  const candidates: Candidate[] = [];
  const logger = pino({ level: 'silent' });

  function candidate(identity: string, extra: Partial<LeaderElectorOptions> = {}): Candidate {
    const client = new FakeLeaseClient(store);
    const c: Candidate = { client, stopped: [], started: [], done: undefined, elector: undefined as never };
    c.elector = new LeaderElector({
      client,
      identity,
      logger,
      clock,
      random: () => 0.5,
      onStartedLeading: (signal) => void c.started.push(signal),
      onStoppedLeading: (reason) => void c.stopped.push(reason),
      ...extra,
    });
    candidates.push(c);
    return c;
  }

  /** Let every pending promise chain settle (the fakes do no I/O, so one macrotask turn is enough). */
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

  /** Advance time in small steps, checking after each that at most one candidate leads. */
  async function runFor(ms: number, step = 100): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      clock.advance(Math.min(step, ms - t));
      await settle();
      const leaders = candidates.filter((c) => c.elector.isLeader()).map((c) => c.elector.identity);
      assert.ok(leaders.length <= 1, `two leaders at once at t=${clock.now()}: ${leaders.join(', ')}`);
    }
  }

  function start(c: Candidate, signal?: AbortSignal): void {
    c.done = c.elector.run(signal);
  }

  return { clock, store, candidate, runFor, settle, start };
}

describe('LeaderElector', () => {
  it('acquires a lease that does not exist and renews it every retry period', async () => {
    const w = world();
    const a = w.candidate('a');
    w.start(a);
    await w.settle();
    assert.equal(a.elector.isLeader(), true);
    assert.equal(a.started.length, 1);
    const created = w.store.current?.record;
    assert.equal(created?.holderIdentity, 'a');
    assert.equal(created?.leaseDurationSeconds, 15);
    assert.equal(created?.leaseTransitions, 0);
    assert.equal(created?.acquireTime, w.clock.now());

    const acquiredAt = w.clock.now();
    await w.runFor(10_000);
    const renewTimes = w.store.writes.map((r) => (r.renewTime ?? 0) - acquiredAt);
    assert.deepEqual(renewTimes, [0, 2000, 4000, 6000, 8000, 10_000]);
    assert.ok(w.store.writes.every((r) => r.acquireTime === acquiredAt && r.leaseTransitions === 0));
    assert.equal(a.elector.isLeader(), true);
    await a.elector.release();
  });

  it('keeps a standby waiting while the leader renews', async () => {
    const w = world();
    const a = w.candidate('a');
    const b = w.candidate('b');
    w.start(a);
    await w.settle();
    w.start(b);
    await w.runFor(60_000);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(b.elector.isLeader(), false);
    assert.equal(b.elector.observedLeader(), 'a');
    await a.elector.release();
    await b.elector.release();
  });

  it('stops leading once renewals fail past the renew deadline, before a standby can take over', async () => {
    const w = world();
    const a = w.candidate('a');
    const b = w.candidate('b');
    w.start(a);
    await w.settle();
    w.start(b);
    await w.runFor(4_000);
    const lastRenew = w.store.current?.record.renewTime ?? 0;
    a.client.fault = 'error';
    await w.runFor(9_900 - (w.clock.now() - lastRenew));
    assert.equal(a.elector.isLeader(), true, 'still within the renew deadline');
    await w.runFor(100);
    assert.equal(a.elector.isLeader(), false, 'gave up exactly at lastRenew + renewDeadline');
    assert.deepEqual(a.stopped, ['lost']);
    assert.equal(a.started[0]?.aborted, true, 'the leadership signal is aborted');
    await a.done;
    assert.equal(b.elector.isLeader(), false, 'the standby waits for the full lease duration');

    await w.runFor(15_000 - (w.clock.now() - lastRenew) + 4_400); // expiry + at most one jittered retry
    assert.equal(b.elector.isLeader(), true, 'standby took over after expiry');
    assert.equal(w.store.current?.record.holderIdentity, 'b');
    assert.equal(w.store.current?.record.leaseTransitions, 1);
    await b.elector.release();
  });

  it('counts a lease it observed from when the answer arrived, not from when it asked (as client-go)', async () => {
    const w = world();
    const a = w.candidate('a');
    w.start(a);
    await w.settle();
    // The leader dies right after one renewal; the standby's first read of the lease takes 3 s.
    a.client.fault = 'error';
    const renewedAt = w.store.current?.record.renewTime ?? 0;
    const b = w.candidate('b');
    let slow = true;
    const get = b.client.get.bind(b.client);
    b.client.get = async (signal) => {
      const answer = await get(signal);
      if (slow) {
        slow = false;
        await new Promise<void>((resolve) => w.clock.setTimeout(resolve, 3_000));
      }
      return answer;
    };
    w.start(b);
    await w.runFor(15_000 + 3_000 - 100 - (w.clock.now() - renewedAt));
    assert.equal(b.elector.isLeader(), false, 'the lease runs 15 s from when its answer arrived');
    await w.runFor(4_600); // to the expiry, plus at most one jittered retry
    assert.equal(b.elector.isLeader(), true);
    await b.elector.release();
  });

  it("a standby takes a dead leader's lease the moment it expires, not a retry period later", async () => {
    const w = world();
    const a = w.candidate('a');
    // The longest jitter (polls 4.4 s apart): waiting for the next poll could add up to 4.4 s.
    const b = w.candidate('b', { random: () => 0.999 });
    const changesSeenAt: number[] = [];
    let seenVersion: string | undefined;
    const get = b.client.get.bind(b.client);
    b.client.get = async (signal) => {
      const snapshot = await get(signal);
      if (snapshot && snapshot.resourceVersion !== seenVersion) {
        seenVersion = snapshot.resourceVersion;
        changesSeenAt.push(w.clock.now());
      }
      return snapshot;
    };
    w.start(a);
    await w.settle();
    w.start(b);
    await w.runFor(6_000, 10);
    a.client.fault = 'hang'; // the leader stops renewing
    await w.runFor(30_000, 10);
    assert.equal(w.store.current?.record.holderIdentity, 'b');
    const takenAt = w.store.current?.record.acquireTime ?? 0;
    const lastChangeSeen = changesSeenAt.filter((t) => t < takenAt).at(-1) ?? 0;
    const waited = takenAt - lastChangeSeen;
    assert.ok(
      waited >= 15_000 && waited <= 15_010,
      `took the lease ${waited} ms after it last saw it change: exactly the lease duration`,
    );
    await b.elector.release();
  });

  it('gives up on renewals that hang instead of waiting for them', async () => {
    const w = world();
    const a = w.candidate('a');
    w.start(a);
    await w.settle();
    const acquiredAt = w.clock.now();
    a.client.fault = 'hang';
    await w.runFor(10_000);
    assert.equal(a.elector.isLeader(), false);
    assert.deepEqual(a.stopped, ['lost']);
    assert.equal(w.clock.now() - acquiredAt, 10_000);
    await a.done;
    assert.equal(w.clock.pendingTimers(), 0, 'nothing left armed');
  });

  it('stops at once when another holder has taken the lease', async () => {
    const w = world();
    const a = w.candidate('a');
    w.start(a);
    await w.settle();
    const current = w.store.current;
    assert.ok(current);
    w.store.write({ ...current.record, holderIdentity: 'intruder', renewTime: w.clock.now() });
    await w.runFor(2_000);
    assert.equal(a.elector.isLeader(), false);
    assert.deepEqual(a.stopped, ['lost']);
  });

  it('release() hands over immediately: holder emptied, duration 1 s, standby takes over on its next try', async () => {
    const w = world();
    const a = w.candidate('a');
    const b = w.candidate('b');
    w.start(a);
    await w.settle();
    w.start(b);
    await w.runFor(6_000);
    const releasing = a.elector.release();
    await w.settle();
    await releasing;
    assert.equal(a.elector.isLeader(), false);
    assert.deepEqual(a.stopped, ['released']);
    assert.equal(w.store.current?.record.holderIdentity, '');
    assert.equal(w.store.current?.record.leaseDurationSeconds, 1);
    const releasedAt = w.clock.now();
    await w.runFor(4_400); // b's jittered retry period, far below the 15 s lease duration
    assert.equal(b.elector.isLeader(), true);
    assert.ok((w.store.current?.record.acquireTime ?? Infinity) - releasedAt <= 4_400);
    assert.equal(w.store.current?.record.leaseTransitions, 1);
    await b.elector.release();
  });

  it('aborting the run() signal while leading releases the lease too', async () => {
    const w = world();
    const a = w.candidate('a');
    const ac = new AbortController();
    w.start(a, ac.signal);
    await w.settle();
    ac.abort();
    await w.settle();
    await a.done;
    assert.deepEqual(a.stopped, ['released']);
    assert.equal(w.store.current?.record.holderIdentity, '');
  });

  it('release() before leading just stops campaigning', async () => {
    const w = world();
    const a = w.candidate('a');
    const b = w.candidate('b');
    w.start(a);
    await w.settle();
    w.start(b);
    await w.runFor(3_000);
    await b.elector.release();
    assert.deepEqual(b.stopped, []);
    assert.equal(w.store.current?.record.holderIdentity, 'a');
    await a.elector.release();
  });

  it('retries after a 409 conflict on renew and stays leader', async () => {
    const w = world();
    const a = w.candidate('a');
    w.start(a);
    await w.settle();
    a.client.fault = 'conflict-once';
    await w.runFor(6_000);
    assert.equal(a.elector.isLeader(), true);
    assert.deepEqual(a.stopped, []);
    await a.elector.release();
  });

  it('never lets two of three racing candidates lead, through failures, hangs and releases', async () => {
    const w = world();
    const cs = ['a', 'b', 'c'].map((id, i) => w.candidate(id, { random: () => (i + 1) / 4 }));
    for (const c of cs) w.start(c);
    await w.runFor(5_000);
    const leaders = () => cs.filter((c) => c.elector.isLeader());
    assert.equal(leaders().length, 1, 'exactly one leader after the race');
    const first = leaders()[0];
    assert.ok(first);
    first.client.fault = 'hang';
    await w.runFor(30_000);
    const second = leaders()[0];
    assert.ok(second && second !== first, 'a standby took over');
    first.client.fault = 'none';
    second.client.fault = 'error';
    await w.runFor(30_000);
    const third = leaders()[0];
    assert.ok(third && third !== second);
    await third.elector.release();
    await w.runFor(1_000);
  });

  it('validates its timing settings', () => {
    const base = {
      client: new FakeLeaseClient(new FakeLeaseStore()),
      identity: 'x',
      logger: pino({ level: 'silent' }),
    };
    assert.throws(
      () => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
      /greater than renewDeadlineMs/,
    );
    assert.throws(
      () => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }),
      /retryPeriodMs/,
    );
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 15_500 }), /whole seconds/);
    assert.throws(() => new LeaderElector({ ...base, identity: '' }), /identity/);
  });

  it('builds identities as hostname_randomsuffix', () => {
    const id = defaultLeaderIdentity('pod-1');
    assert.match(id, /^pod-1_[0-9a-f]{8}$/);
    assert.notEqual(defaultLeaderIdentity('pod-1'), id);
  });
});

// Failover, the short version kept in `npm test` (the full one — 10 kills — is `npm run
// reliability`): the leader of two replicas SIGKILLed during churn; the standby takes over each
// time, and the audit log shows no two replicas' writes interleaving.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runFailover } from './failover.ts';

describe('failover (short)', { timeout: 900_000 }, () => {
  test('3 leader kills during churn: each taken over; writes never interleave; nothing lost', async () => {
    const report = await runFailover({
      kills: 3,
      tenants: 4,
      log: (line) => process.stderr.write(`[failover] ${line}\n`),
    });
    process.stderr.write(
      `[failover] takeovers ${report.takeoverMs.join(', ')} ms; writes ${JSON.stringify(report.writesByReplica)}; ${report.changes} changes\n`,
    );
    assert.equal(report.takeoverMs.length, 3);
    assert.deepEqual(report.interleaved, []);
    assert.ok(
      !Object.keys(report.writesByReplica).some((who) => who.startsWith('unknown')),
      'every write names its replica',
    );
    assert.ok(
      report.handovers.length >= 1 && report.handovers.length <= 3,
      `handovers: ${report.handovers.join(', ')}`,
    );
    assert.deepEqual(report.audit.problems, []);
  });
});

// Crash chaos, the short version kept in `npm test` (the full one — 100 tenants, 30 kills — is
// `npm run reliability`): tenants created, changed and deleted while the operator is SIGKILLed and
// restarted; afterwards the cluster matches the Tenants exactly, nothing is orphaned, regenerated
// or lost, and the Auth service knows exactly the live tenants.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCrashChaos } from './chaos.ts';

const SEED = Number(process.env['CHAOS_SEED'] ?? 20261202);

describe('crash chaos (short)', { timeout: 900_000 }, () => {
  test('12 tenants, 6 SIGKILLs, 3 deletions: everything converges and the audit finds nothing', async () => {
    const report = await runCrashChaos({
      tenants: 12,
      kills: 6,
      deletions: 3,
      seed: SEED,
      log: (line) => process.stderr.write(`[chaos] ${line}\n`),
    });
    process.stderr.write(
      `[chaos] seed ${report.seed}: converged in ${report.convergeMs} ms after the last restart; ${report.audit.tenants} tenants, ${report.audit.objects} objects audited\n`,
    );
    assert.deepEqual(report.unexpectedExits, [], 'the operator only ever stopped when killed');
    assert.deepEqual(
      report.audit.problems,
      [],
      `seed ${report.seed} (repeat with CHAOS_SEED=${report.seed})`,
    );
    assert.equal(report.kills, 6);
  });
});

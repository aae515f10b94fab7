// Control-plane faults, the short version kept in `npm test` (the full one is `npm run
// reliability`): etcd SIGKILLed and restarted, kube-apiserver restarted, every node NotReady. The
// operator stays up, every change made around the fault is applied, and the audit finds nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { uniqueName } from '../cluster/fixture.ts';
import { type ControlPlaneFault, runControlPlaneFault } from './control-plane-faults.ts';

const FAULTS: ControlPlaneFault[] = ['etcd-killed', 'apiserver-restarted', 'nodes-not-ready'];

describe('control-plane faults (short)', { timeout: 1_800_000 }, () => {
  for (const fault of FAULTS) {
    test(`${fault}: 4 tenants converge to their last spec; nothing lost`, async () => {
      const report = await runControlPlaneFault(fault, {
        tenants: 4,
        prefix: uniqueName(fault.split('-')[0]!),
        log: (line) => process.stderr.write(`[faults] ${fault}: ${line}\n`),
      });
      process.stderr.write(
        `[faults] ${fault}: fault ${report.faultMs} ms, converged ${report.convergeMs} ms after it, ${report.changes} changes\n`,
      );
      assert.ok(report.operatorSurvived, 'the operator process never exited');
      assert.deepEqual(report.audit.problems, []);
    });
  }
});

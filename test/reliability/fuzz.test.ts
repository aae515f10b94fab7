// Hostile input, the short version kept in `npm test` (the full one — 1000 cases — is `npm run
// reliability`): generated invalid and hostile Tenants against the real API server and the
// operator as installed. The seed is printed, and every failure message carries it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runFuzz } from './fuzz.ts';

const seed = Number(process.env['FUZZ_SEED'] ?? Date.now() % 1_000_000);
const cases = Number(process.env['FUZZ_CASES'] ?? 100);

describe('hostile input (short)', { timeout: 600_000 }, () => {
  test(`${cases} hostile Tenants (seed ${seed}): refused naming the field, reported, or provisioned`, async () => {
    const report = await runFuzz({
      cases,
      seed,
      log: (line) => process.stderr.write(`[fuzz] ${line}\n`),
    });
    process.stderr.write(
      `[fuzz] seed ${seed}: ${JSON.stringify(report.outcomes)}; operator writes per tenant median ${report.medianWrites}, max ${report.maxWrites}\n`,
    );
    assert.deepEqual(report.problems, [], `seed ${seed} (FUZZ_SEED=${seed} to repeat)`);
    assert.equal(
      report.outcomes.refused + report.outcomes.provisioned + report.outcomes.reported,
      cases,
      'every case answered',
    );
  });
});

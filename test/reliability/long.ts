// `npm run reliability`: the long runs of every reliability scenario, on a control plane of their
// own, with the figures written to test/reliability/results/<date>.json and RESULTS.md regenerated
// from every results file. Short versions of the same scenarios are part of `npm test`.
//
//   npm run reliability                      # everything, full size
//   npm run reliability -- --only chaos,failover --seed 7
//
// Scenarios: chaos (100 tenants, 30 SIGKILLs, 20 deletions), faults (etcd SIGKILLed, kube-apiserver
// restarted, every node NotReady, 30 tenants each), failover (two replicas, 10 leader SIGKILLs),
// fuzz (1000 hostile Tenants, `--fuzz-cases N` to change) and security (see their files).
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { uniqueName } from '../cluster/fixture.ts';
import { readVersions, repoRoot } from '../cluster/config.ts';
import { runCrashChaos } from './chaos.ts';
import { type ControlPlaneFault, runControlPlaneFault } from './control-plane-faults.ts';
import { runFailover } from './failover.ts';
import { runFuzz } from './fuzz.ts';
import { writeReliabilityReport } from './report.ts';

process.env['NEURALLOG_CLUSTER_DIR'] ||= join(tmpdir(), 'neurallog-reliability-cluster');

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'fuzz-cases': { type: 'string', default: '1000' },
  },
});
const only = new Set((values.only ?? 'chaos,faults,failover,fuzz').split(','));
const seed = Number(values.seed);
const log = (line: string) =>
  process.stderr.write(`[reliability ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

interface Scenario {
  name: string;
  startedAt: string;
  seconds: number;
  outcome: 'passed' | 'failed';
  problems: string[];
  figures: Record<string, unknown>;
}

async function scenario(
  name: string,
  run: () => Promise<{ problems: string[]; figures: Record<string, unknown> }>,
): Promise<Scenario> {
  const startedAt = new Date();
  log(`${name}: starting`);
  try {
    const { problems, figures } = await run();
    const seconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
    log(
      `${name}: ${problems.length === 0 ? 'passed' : `FAILED (${problems.length} problems)`} in ${seconds} s`,
    );
    return {
      name,
      startedAt: startedAt.toISOString(),
      seconds,
      outcome: problems.length === 0 ? 'passed' : 'failed',
      problems,
      figures,
    };
  } catch (error) {
    const seconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
    log(`${name}: FAILED: ${(error as Error).message}`);
    return {
      name,
      startedAt: startedAt.toISOString(),
      seconds,
      outcome: 'failed',
      problems: [String((error as Error).message)],
      figures: {},
    };
  }
}

const scenarios: Scenario[] = [];
if (only.has('chaos'))
  scenarios.push(
    await scenario('crash chaos', async () => {
      const r = await runCrashChaos({ tenants: 100, kills: 30, deletions: 20, seed, log });
      return {
        problems: [...r.unexpectedExits.map((e) => `operator exited on its own: ${e}`), ...r.audit.problems],
        figures: {
          seed: r.seed,
          tenants: r.tenants,
          kills: r.kills,
          deletions: r.deletions,
          changes: r.changes,
          convergeSeconds: r.convergeMs / 1000,
          auditedObjects: r.audit.objects,
        },
      };
    }),
  );
if (only.has('faults'))
  for (const fault of ['etcd-killed', 'apiserver-restarted', 'nodes-not-ready'] as ControlPlaneFault[])
    scenarios.push(
      await scenario(`control-plane fault: ${fault}`, async () => {
        const r = await runControlPlaneFault(fault, {
          tenants: 30,
          prefix: uniqueName(fault.split('-')[0]!),
          log,
        });
        return {
          problems: [...(r.operatorSurvived ? [] : ['the operator process exited']), ...r.audit.problems],
          figures: {
            tenants: r.tenants,
            changes: r.changes,
            faultSeconds: r.faultMs / 1000,
            convergeSeconds: r.convergeMs / 1000,
            auditedObjects: r.audit.objects,
          },
        };
      }),
    );
if (only.has('failover'))
  scenarios.push(
    await scenario('failover', async () => {
      const r = await runFailover({ kills: 10, tenants: 10, log });
      const sorted = [...r.takeoverMs].sort((a, b) => a - b);
      return {
        problems: [
          ...r.interleaved,
          ...(r.handovers.length === r.kills ? [] : [`${r.handovers.length} handovers for ${r.kills} kills`]),
          ...r.audit.problems,
        ],
        figures: {
          kills: r.kills,
          tenants: r.tenants,
          changes: r.changes,
          takeoverSeconds: r.takeoverMs.map((ms) => ms / 1000),
          takeoverP50Seconds: (sorted[Math.floor((sorted.length - 1) / 2)] ?? 0) / 1000,
          takeoverMaxSeconds: (sorted.at(-1) ?? 0) / 1000,
          writesByReplica: r.writesByReplica,
        },
      };
    }),
  );

if (only.has('fuzz'))
  scenarios.push(
    await scenario('hostile input', async () => {
      const r = await runFuzz({ cases: Number(values['fuzz-cases']), seed, log });
      return {
        problems: r.problems,
        figures: {
          seed: r.seed,
          cases: r.cases,
          outcomes: r.outcomes,
          reportedReasons: r.reasons,
          disagreements: r.disagreements.length,
          knownDisagreements: r.knownDisagreements.length,
          unnamedRefusals: r.unnamedRefusals.length,
          badRedisConfigs: r.badConfigs.length,
          operatorWritesPerTenantMedian: r.medianWrites,
          operatorWritesPerTenantMax: r.maxWrites,
          operatorExited: r.operatorExited ?? 'no',
          changeKinds: r.kinds,
        },
      };
    }),
  );

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
  cwd: repoRoot,
  encoding: 'utf8',
}).trim();
const result = {
  date: new Date().toISOString(),
  commit,
  machine: {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  versions: readVersions(),
  seed,
  scenarios,
};
const dir = join(repoRoot, 'test', 'reliability', 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `${result.date.slice(0, 10)}-${result.date.slice(11, 19).replaceAll(':', '')}.json`);
await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
await writeReliabilityReport();
log(`results in ${file}; test/reliability/RESULTS.md regenerated`);
process.exitCode = scenarios.every((s) => s.outcome === 'passed') ? 0 : 1;

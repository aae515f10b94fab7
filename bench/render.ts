// Pure CPU cost of the per-reconcile work that needs no I/O, for the three samples in
// config/samples: validateTenant (the zod schema), resolveTenant (defaults), render (every
// object), and the path one reconcile takes (validate, resolve twice, render). No cluster needed.
//
//   node bench/render.ts [--rounds 5] [--round-ms 1000] [--warmup-ms 2000] [--out file.json]
//
// Each case is warmed up, then run for `rounds` rounds of about `round-ms`; the table shows the
// median round (ops/s) and the spread. Results go to bench/results/<date>-render.json.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { resolveTenant } from '../src/api/resolve.ts';
import type { Tenant } from '../src/api/tenant.ts';
import { validateTenant } from '../src/api/validate.ts';
import { render } from '../src/render/index.ts';
import { loadAverages, machineInfo } from './lib/machine.ts';
import { round } from './lib/stats.ts';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    'round-ms': { type: 'string', default: '1000' },
    'warmup-ms': { type: 'string', default: '2000' },
    out: { type: 'string' },
  },
});
const ROUNDS = Number(flags.rounds);
const ROUND_MS = Number(flags['round-ms']);
const WARMUP_MS = Number(flags['warmup-ms']);

const repoRoot = join(import.meta.dirname, '..');
const SAMPLES = ['basic', 'customized', 'acme_corp'] as const;
const AUTH_URL = 'http://auth.neurallog-system.svc.cluster.local:3000';
const UID = '0b5d8a4e-7d0c-4a51-9d7f-5a4c3b2a1f00';

let sink = 0; // keeps results alive so nothing is optimised away

interface CaseResult {
  sample: string;
  case: string;
  opsPerSecond: { median: number; min: number; max: number };
  microsecondsPerOp: number;
  iterations: number;
}

function runFor(fn: () => unknown, ms: number): { iterations: number; ns: bigint } {
  const limit = BigInt(ms) * 1_000_000n;
  const start = process.hrtime.bigint();
  let iterations = 0;
  let elapsed = 0n;
  // Batches of 32 calls between clock reads keep the timer out of the measurement.
  while (elapsed < limit) {
    for (let i = 0; i < 32; i++) {
      const out = fn();
      sink += Array.isArray(out) ? out.length : out ? 1 : 0;
    }
    iterations += 32;
    elapsed = process.hrtime.bigint() - start;
  }
  return { iterations, ns: elapsed };
}

function measure(sample: string, name: string, fn: () => unknown): CaseResult {
  runFor(fn, WARMUP_MS);
  const rates: number[] = [];
  let iterations = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const run = runFor(fn, ROUND_MS);
    iterations += run.iterations;
    rates.push(run.iterations / (Number(run.ns) / 1e9));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)]!;
  return {
    sample,
    case: name,
    opsPerSecond: { median: Math.round(median), min: Math.round(rates[0]!), max: Math.round(rates.at(-1)!) },
    microsecondsPerOp: round(1e6 / median, 2),
    iterations,
  };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadStart = loadAverages();
  const results: CaseResult[] = [];
  const sizes: Record<string, { objects: number; jsonBytes: number }> = {};
  for (const sample of SAMPLES) {
    const file = join(repoRoot, 'config', 'samples', `neurallog_v1_tenant_${sample}.yaml`);
    const raw: unknown = parse(readFileSync(file, 'utf8'));
    const validation = validateTenant(raw);
    if (!validation.ok) throw new Error(`${file} is not a valid Tenant`);
    // As the controller sees it: from the API server, with a uid (ownerReferences are rendered).
    const live: Tenant = { ...validation.tenant, metadata: { ...validation.tenant.metadata, uid: UID } };
    const rawLive = { ...(raw as object), metadata: { ...(raw as { metadata: object }).metadata, uid: UID } };
    const resolved = resolveTenant(live);
    const objects = render(resolved, { authUrl: AUTH_URL, redisPassword: 'x'.repeat(43) });
    sizes[sample] = { objects: objects.length, jsonBytes: Buffer.byteLength(JSON.stringify(objects)) };

    results.push(measure(sample, 'validateTenant', () => validateTenant(rawLive)));
    results.push(measure(sample, 'resolveTenant', () => resolveTenant(live)));
    results.push(
      measure(sample, 'render (resolved)', () => render(resolved, { authUrl: AUTH_URL, redisPassword: 'p' })),
    );
    results.push(
      measure(sample, 'render (tenant)', () => render(live, { authUrl: AUTH_URL, redisPassword: 'p' })),
    );
    // What one reconcile computes before any I/O (src/reconcile/reconciler.ts): validate,
    // resolve (twice: once to decide, once with the uid), render.
    results.push(
      measure(sample, 'validate+resolve×2+render', () => {
        const v = validateTenant(rawLive);
        if (!v.ok) throw new Error('invalid');
        resolveTenant(v.tenant);
        const r = resolveTenant({ ...v.tenant, metadata: { ...v.tenant.metadata, uid: UID } });
        return render(r, { authUrl: AUTH_URL, redisPassword: 'p' });
      }),
    );
    process.stderr.write(`[bench] ${sample} done\n`);
  }

  const result = {
    benchmark: 'render',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: { rounds: ROUNDS, roundMs: ROUND_MS, warmupMs: WARMUP_MS },
    machine: machineInfo(),
    load: { start: loadStart, end: loadAverages() },
    renderedObjects: sizes,
    results,
    sink,
  };
  const outDir = join(import.meta.dirname, 'results');
  await mkdir(outDir, { recursive: true });
  let out = flags.out;
  if (!out) {
    const base = `${startedAt.toISOString().slice(0, 10)}-render`;
    out = join(outDir, `${base}.json`);
    for (let i = 2; existsSync(out); i++) out = join(outDir, `${base}-${i}.json`);
  }
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`[bench] wrote ${out}\n`);

  const rows = results.map(
    (r) =>
      `| ${r.sample} | ${r.case} | ${r.opsPerSecond.median.toLocaleString('en-US')} | ${r.opsPerSecond.min.toLocaleString('en-US')}–${r.opsPerSecond.max.toLocaleString('en-US')} | ${r.microsecondsPerOp} |`,
  );
  console.log(
    [
      '| sample | case | ops/s (median) | ops/s (min–max) | µs/op |',
      '|---|---|---:|---:|---:|',
      ...rows,
    ].join('\n'),
  );
}

await main();

/**
 * docs/operations.md stays true to the code: every condition reason the reconciler can write and
 * every metric it registers is documented there. The lists come from the sources, so a new reason
 * or metric without documentation fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../cluster/config.ts';

const doc = readFileSync(join(repoRoot, 'docs', 'operations.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.test-util.ts'))
    .map((f) => readFileSync(join(repoRoot, dir, f), 'utf8'));
}

function documentedReasons(): Set<string> {
  const section = doc.slice(doc.indexOf('## Conditions and what to do'));
  const reasons = new Set<string>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const first = row.split('|')[1] ?? '';
    for (const [, reason] of first.matchAll(/`(\w+)`/g)) reasons.add(reason!);
  }
  return reasons;
}

test('every condition reason the reconciler writes is explained in docs/operations.md', () => {
  const code = sources('src/reconcile').join('\n');
  const literal = [...code.matchAll(/reason: '(\w+)'/g)].map((m) => m[1]!);
  // Reasons built from a component's name or the phase (status.ts: `${name}Running`, …), and
  // the one deletion.ts keeps in a constant.
  const computed = [
    'DeregistrationTimedOut',
    'RedisRunning',
    'ServerRunning',
    'RedisNotReady',
    'ServerNotReady',
    'Provisioning',
    'Degraded',
  ];
  const events = new Set(['Created', 'Updated', 'DriftCorrected']); // Event reasons, not conditions
  const wanted = [...new Set([...literal, ...computed])].filter((r) => !events.has(r));
  const documented = documentedReasons();
  assert.deepEqual(
    wanted.filter((r) => !documented.has(r)),
    [],
    'reasons missing from the table in docs/operations.md',
  );
  assert.ok(wanted.length >= 25, `found ${wanted.length} reasons: the scan still sees the code`);
});

test('every metric the operator registers is listed in docs/operations.md', () => {
  const code = sources('src').join('\n');
  const metrics = [...new Set([...code.matchAll(/name: '(neurallog_operator_\w+)'/g)].map((m) => m[1]!))];
  assert.ok(metrics.length >= 10, `found ${metrics.length} metrics`);
  assert.deepEqual(
    metrics.filter((m) => !doc.includes(`\`${m}\``)),
    [],
    'metrics missing from docs/operations.md',
  );
});

// The two suites that need a control plane, run side by side on two control planes of their own:
// `test:integration` on $NEURALLOG_CLUSTER_DIR (the default test cluster) and `test:reliability`
// on "<that>-reliability". Most of their time is spent waiting (outages, lease expiry, nodes going
// NotReady, namespaces emptying), so together they take little longer than the longer one.
// The control-plane binaries are built first, once, so the two never build into the cache at once.
// Each line is prefixed with its suite; the exit code is non-zero when either failed. SIGINT and
// SIGTERM are passed on to both suites, which stop their operators and exit.
//
//   node hack/test-suites.ts
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ensureBuilt } from '../test/cluster/cluster.ts';
import { clusterDir } from '../test/cluster/config.ts';

interface Suite {
  name: string;
  script: string;
  clusterDir: string;
}

// Without trailing slashes, so that "<dir>-reliability" is a sibling and never inside <dir>.
const base = clusterDir().replace(/\/+$/, '');
const suites: Suite[] = [
  { name: 'integration', script: 'test:integration', clusterDir: base },
  { name: 'reliability', script: 'test:reliability', clusterDir: `${base}-reliability` },
];

const children = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });
}

function run(suite: Suite): Promise<{ suite: Suite; code: number; seconds: number }> {
  const started = Date.now();
  const child = spawn('npm', ['run', '--silent', suite.script], {
    env: { ...process.env, NEURALLOG_CLUSTER_DIR: suite.clusterDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const prefix = `[${suite.name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${prefix}${line}\n`));
  }
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close', not 'exit': by then both pipes are drained, so the summary comes after the output.
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ suite, code: code ?? (signal ? 1 : 0), seconds: Math.round((Date.now() - started) / 1000) });
    });
  });
}

await ensureBuilt();
const results = await Promise.all(suites.map(run));
for (const { suite, code, seconds } of results) {
  process.stdout.write(
    `${suite.name}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${seconds} s on ${suite.clusterDir}\n`,
  );
}
process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;

/**
 * `npm run docs:capture`: turns the templates in docs/templates/ into docs/ by running their
 * commands against a local control plane with the operator running under its shipped
 * ServiceAccount, and pasting the real output. The docs are regenerated, never hand-edited.
 *
 * Directives, each alone on a line of a template:
 *   <!-- $ CMD -->       run CMD (bash, in a scratch directory, KUBECONFIG set); show it and its output
 *   <!-- $! CMD -->      the same, for a command that is expected to fail (a non-zero exit)
 *   <!-- run: CMD -->    run CMD silently; it must succeed
 *   <!-- until: CMD -->  run CMD silently until it succeeds (deadline 4 minutes)
 *   <!-- operator-log: REGEX N -->  the last N lines of the operator's log matching REGEX
 *   <!-- file: NAME -->  the fenced block that follows is also written to NAME in the scratch directory
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// A cluster of its own unless told otherwise, so test leftovers never show up in the docs.
process.env.NEURALLOG_CLUSTER_DIR ??= join(tmpdir(), 'neurallog-docs-cluster');

const { repoRoot } = await import('../../test/cluster/config.ts');
const { useCluster } = await import('../../test/cluster/fixture.ts');
const { startEnvironment } = await import('../../test/operator/environment.ts');
const { down } = await import('../../test/cluster/cluster.ts');

const TEMPLATES = join(repoRoot, 'docs', 'templates');
const UNTIL_DEADLINE_MS = 240_000;

interface Shell {
  run(command: string): Promise<{ code: number; output: string }>;
}

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
}

function shell(env: NodeJS.ProcessEnv, cwd: string, hide: string[]): Shell {
  const tidy = (text: string) => hide.reduce((out, secret) => out.split(secret).join('.'), text);
  return {
    run: (command) =>
      new Promise((resolve) => {
        const child = spawn('bash', ['-o', 'pipefail', '-c', command], { env, cwd });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        child.on('close', (code) => resolve({ code: code ?? 1, output: tidy(output).trimEnd() }));
      }),
  };
}

const DIRECTIVE = /^<!-- (\$!?|run:|until:|operator-log:|file:) (.*) -->$/;

async function render(
  template: string,
  sh: Shell,
  scratch: string,
  operatorLog: () => Promise<string>,
): Promise<string> {
  const lines = template.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const match = DIRECTIVE.exec(line);
    if (!match) {
      out.push(line);
      continue;
    }
    const [, kind, argument = ''] = match;
    const where = `line ${i + 1}`;
    if (kind === '$' || kind === '$!') {
      process.stdout.write(`  $ ${argument}\n`);
      const { code, output } = await sh.run(argument);
      const failed = code !== 0;
      if (failed !== (kind === '$!'))
        throw new CaptureError(`${where}: \`${argument}\` exited ${code}:\n${output}`);
      out.push('```console', `$ ${argument}`, ...(output ? [output] : []), '```');
    } else if (kind === 'run:') {
      const { code, output } = await sh.run(argument);
      if (code !== 0) throw new CaptureError(`${where}: \`${argument}\` exited ${code}:\n${output}`);
    } else if (kind === 'until:') {
      const deadline = Date.now() + UNTIL_DEADLINE_MS;
      for (;;) {
        const { code, output } = await sh.run(argument);
        if (code === 0) break;
        if (Date.now() > deadline)
          throw new CaptureError(`${where}: \`${argument}\` still fails after 4 minutes:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    } else if (kind === 'operator-log:') {
      const cut = argument.lastIndexOf(' ');
      const pattern = new RegExp(argument.slice(0, cut));
      const count = Number(argument.slice(cut + 1));
      const matching = (await operatorLog()).split('\n').filter((l) => pattern.test(l));
      if (matching.length === 0) throw new CaptureError(`${where}: no operator log line matches ${pattern}`);
      out.push('```json', ...matching.slice(-count), '```');
    } else if (kind === 'file:') {
      const open = lines[i + 1] ?? '';
      if (!open.startsWith('```'))
        throw new CaptureError(`${where}: file: must be followed by a fenced block`);
      const end = lines.indexOf('```', i + 2);
      if (end < 0) throw new CaptureError(`${where}: the fenced block after file: is not closed`);
      const path = join(scratch, argument);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, lines.slice(i + 2, end).join('\n') + '\n');
    }
  }
  // Silent directives leave their blank lines behind: keep one.
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const templates = (await readdir(TEMPLATES)).filter(
    (f) => f.endsWith('.md') && (only.length === 0 || only.includes(f)),
  );
  process.stdout.write(`Capturing ${templates.join(', ')} on ${process.env.NEURALLOG_CLUSTER_DIR}\n`);
  const cluster = await useCluster();
  // Leftovers of an earlier capture would change every listing.
  await cluster.kubectl(['delete', 'tenants', '--all', '--wait=true', '--timeout=240s']);
  const env = await startEnvironment('docs', { args: ['--resync-period', '1m'] });
  const scratch = await mkdtemp(join(tmpdir(), 'neurallog-docs-'));
  try {
    // `tenant-operator` on the PATH, as after `npm install -g` or in the image.
    const bin = join(scratch, '.bin');
    await mkdir(bin);
    const node = join(repoRoot, 'node_modules', '.bin', 'node');
    const cli = join(repoRoot, 'src', 'cli', 'main.ts');
    await writeFile(join(bin, 'tenant-operator'), `#!/bin/sh\nexec "${node}" "${cli}" "$@"\n`, {
      mode: 0o755,
    });
    const shellEnv = {
      ...process.env,
      KUBECONFIG: cluster.kubeconfigPath,
      PATH: `${bin}:${dirname(cluster.kubectlPath)}:${process.env.PATH ?? ''}`,
    };
    const sh = shell(shellEnv, scratch, [scratch, cluster.kubeconfigPath]);
    for (const name of templates) {
      process.stdout.write(`${name}\n`);
      const template = await readFile(join(TEMPLATES, name), 'utf8');
      const body = await render(template, sh, scratch, async () => readFile(env.operator.logFile, 'utf8'));
      const header = `<!-- Generated by \`npm run docs:capture\` from docs/templates/${name}: edit the template, not this file. -->\n`;
      await writeFile(join(repoRoot, 'docs', name), header + body);
    }
  } finally {
    await cluster.kubectl(['delete', 'tenants', '--all', '--wait=true', '--timeout=240s']);
    await env.close();
    await rm(scratch, { recursive: true, force: true });
    if (!process.argv.includes('--keep')) await down();
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`docs capture failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

// `tenant-operator run` as a process: a SIGTERM before the watch caches ever synced is an orderly
// stop (exit 0), not an unhandled rejection.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

/** A port with nothing listening (bound, read, released). */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A TCP server that accepts connections and never answers: every request to it stays in flight. */
async function silentServer(): Promise<{ port: number; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

interface Started {
  child: ReturnType<typeof spawn>;
  exited: Promise<number | null>;
  output(): string;
  probePort: number;
  close(): void;
}

/** `tenant-operator run` against an API server that never answers: the caches never sync. */
async function runAgainstSilentServer(): Promise<Started> {
  const dir = await mkdtemp(join(tmpdir(), 'run-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const apiServer = await silentServer();
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          cluster: { server: `https://127.0.0.1:${apiServer.port}`, 'insecure-skip-tls-verify': true },
        },
      ],
      users: [{ name: 'u', user: { token: 'not-a-real-token' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  const probePort = await unusedPort();
  const child = spawn(
    process.execPath,
    [
      main,
      'run',
      '--kubeconfig',
      kubeconfig,
      '--auth-url',
      'http://127.0.0.1:1',
      '--metrics-bind-address',
      '0',
      '--health-probe-bind-address',
      `127.0.0.1:${probePort}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => output,
    probePort,
    close() {
      child.kill('SIGKILL');
      apiServer.close();
    },
  };
}

test('a SIGTERM while the caches have not synced yet exits 0', { timeout: 60_000 }, async () => {
  const run = await runAgainstSilentServer();
  try {
    // Up (its probes answer) and not ready (nothing synced).
    for (;;) {
      const readyz = await fetch(`http://127.0.0.1:${run.probePort}/readyz`).catch(() => undefined);
      if (readyz) {
        assert.equal(readyz.ok, false, 'not ready: the caches have not synced');
        break;
      }
      assert.equal(run.child.exitCode, null, run.output());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.output());
    assert.doesNotMatch(run.output(), /unhandled|UnhandledPromiseRejection/i);
  } finally {
    run.close();
  }
});

test('a SIGTERM at its first log line, before anything listens, exits 0', { timeout: 60_000 }, async () => {
  const run = await runAgainstSilentServer();
  try {
    await new Promise<void>((resolve) => run.child.stdout?.once('data', () => resolve()));
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.output());
  } finally {
    run.close();
  }
});

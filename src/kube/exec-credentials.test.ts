import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execCredentials } from './exec-credentials.ts';
import { ExecCredentialError } from './kubeconfig-errors.ts';
import type { KubeconfigExec } from './kubeconfig-document.ts';

/**
 * A credential plugin: counts its runs in $PLUGIN_DIR/runs, records what it was given, and prints
 * the ExecCredential in $PLUGIN_DIR/answer.json with the run number in the token.
 */
const PLUGIN = `#!/usr/bin/env node
const fs = require('node:fs');
const dir = process.env.PLUGIN_DIR;
const runs = Number(fs.existsSync(dir + '/runs') ? fs.readFileSync(dir + '/runs', 'utf8') : 0) + 1;
fs.writeFileSync(dir + '/runs', String(runs));
fs.writeFileSync(dir + '/seen.json', JSON.stringify({ argv: process.argv.slice(2), info: JSON.parse(process.env.KUBERNETES_EXEC_INFO) }));
process.stdout.write(fs.readFileSync(dir + '/answer.json', 'utf8').replace('RUN', String(runs)));
`;

describe('execCredentials', () => {
  let dir: string;
  let exec: KubeconfigExec;
  const answer = (status: Record<string, unknown>, apiVersion = 'client.authentication.k8s.io/v1') =>
    fs.writeFileSync(
      path.join(dir, 'answer.json'),
      JSON.stringify({ apiVersion, kind: 'ExecCredential', status }),
    );
  const runs = () => Number(fs.readFileSync(path.join(dir, 'runs'), 'utf8'));

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-credentials-'));
    const plugin = path.join(dir, 'plugin.cjs');
    fs.writeFileSync(plugin, PLUGIN, { mode: 0o755 });
    exec = {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: process.execPath,
      args: [plugin, '--cluster', 'lab'],
      env: [{ name: 'PLUGIN_DIR', value: dir }],
      provideClusterInfo: true,
    };
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs the plugin non-interactively, and keeps its token until expirationTimestamp', async () => {
    fs.rmSync(path.join(dir, 'runs'), { force: true });
    const expiry = Date.parse('2026-06-01T12:00:00Z');
    answer({ token: 'token-RUN', expirationTimestamp: '2026-06-01T12:00:00Z' });
    let now = expiry - 3_600_000;
    const credentials = execCredentials(exec, { now: () => now, cluster: { server: 'https://lab.example' } });
    const [a, b] = await Promise.all([credentials.authorization(), credentials.authorization()]);
    assert.equal(a, 'Bearer token-1');
    assert.equal(b, 'Bearer token-1', 'concurrent callers share one run');
    const seen = JSON.parse(fs.readFileSync(path.join(dir, 'seen.json'), 'utf8')) as {
      argv: string[];
      info: {
        apiVersion: string;
        kind: string;
        spec: { interactive: boolean; cluster?: { server: string } };
      };
    };
    assert.deepEqual(seen.argv, ['--cluster', 'lab']);
    assert.deepEqual(seen.info, {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false, cluster: { server: 'https://lab.example' } },
    });
    now = expiry - 60_000;
    assert.equal(await credentials.authorization(), 'Bearer token-1', 'still valid');
    assert.equal(runs(), 1);
    now = expiry - 5_000;
    assert.equal(await credentials.authorization(), 'Bearer token-2', 'renewed just before expiry');
    credentials.invalidate();
    assert.equal(await credentials.authorization(), 'Bearer token-3', 'renewed after a 401');
  });

  it('keeps a token without expirationTimestamp for good', async () => {
    fs.rmSync(path.join(dir, 'runs'), { force: true });
    answer({ token: 'forever-RUN' });
    let now = 0;
    const credentials = execCredentials(exec, { now: () => now });
    assert.equal(await credentials.authorization(), 'Bearer forever-1');
    now = 10 * 365 * 86_400_000;
    assert.equal(await credentials.authorization(), 'Bearer forever-1');
  });

  it('fails with ExecCredentialError on a wrong answer', async () => {
    const rejects = async (problem: RegExp) =>
      assert.rejects(
        execCredentials(exec).authorization(),
        (err: unknown) => err instanceof ExecCredentialError && problem.test(err.message),
      );
    answer({});
    await rejects(/without status\.token/);
    answer({ token: 't' }, 'client.authentication.k8s.io/v1beta1');
    await rejects(/expected ExecCredential client\.authentication\.k8s\.io\/v1/);
    answer({ token: 't', expirationTimestamp: 'tomorrow' });
    await rejects(/not an RFC 3339 time/);
    answer({ clientCertificateData: 'x', clientKeyData: 'y' });
    await rejects(/only status\.token is supported/);
    fs.writeFileSync(path.join(dir, 'answer.json'), 'Please log in');
    await rejects(/not JSON/);
  });

  it('shows the install hint when the plugin is missing, and refuses unknown API versions', async () => {
    const missing = {
      ...exec,
      command: path.join(dir, 'no-such-plugin'),
      installHint: 'Install it from the wiki.',
    };
    await assert.rejects(
      execCredentials(missing).authorization(),
      (err: unknown) =>
        err instanceof ExecCredentialError && /was not found\. Install it from the wiki\./.test(err.message),
    );
    assert.throws(
      () => execCredentials({ ...exec, apiVersion: 'client.authentication.k8s.io/v1alpha1' }),
      ExecCredentialError,
    );
  });
});

// The operator's container image, built here with `npm run image`'s code (buildah, on a Node.js
// base made from Debian's packages) and run with podman the way a kubelet runs the chart's pod:
// uid 1000, read-only root filesystem, in-cluster configuration from a mounted ServiceAccount.
// Building from nothing takes minutes (see docs/install.md); with the base image and the
// `npm ci` layers cached, a rebuild after a source change only re-runs the TypeScript build.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildImage } from '../../hack/image/main.ts';
import { CONTAINER_TOOLS, ensureTools, missingTools } from '../../hack/image/tools.ts';
import { imageLogDir } from '../../hack/image/config.ts';
import { type AuthPeer, startAuthPeer } from '../auth-peer/peer.ts';
import { type TestCluster, uniqueName, useCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import {
  type OperatorContainer,
  podmanRun,
  serviceAccountVolume,
  startOperatorContainer,
} from '../operator/container.ts';
import { freePort, metricValue } from '../operator/harness.ts';
import { applyTenant, installCrd, waitForGone, waitForReady } from '../operator/tenants.ts';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The chart's terminationGracePeriodSeconds: the kubelet sends SIGKILL after it. */
const GRACE_PERIOD_MS = 30_000;

async function toolsSkipReason(): Promise<string | false> {
  const tools = Object.keys(CONTAINER_TOOLS);
  if ((await missingTools(tools)).length === 0) return false;
  try {
    await mkdir(imageLogDir(), { recursive: true });
    await ensureTools(tools, join(imageLogDir(), `tools-${process.pid}.log`));
    return false;
  } catch (error) {
    return `buildah/podman are not installed and cannot be installed here (${(error as Error).message})`;
  }
}

const skip = await toolsSkipReason();
if (skip) console.log(`# image tests skipped: ${skip}`);

describe('operator container image', { skip, timeout: 1_800_000 }, () => {
  let image: string;

  before(async () => {
    const built = await buildImage();
    image = built.ref;
    console.log(
      `# image ${built.ref} ${built.digest}: ${(built.sizeBytes / 1e6).toFixed(1)} MB, ` +
        `built in ${built.seconds}s (base ${built.baseCached ? 'cached' : 'built'})`,
    );
  });

  test('runs as uid 1000 on a read-only root filesystem', async () => {
    const probe = await podmanRun(
      image,
      ['-c', 'id -u; id -g; for d in / /app /home/node /var/tmp; do touch $d/probe 2>&1; done; exit 0'],
      { entrypoint: '/bin/sh' },
    );
    assert.equal(probe.code, 0, probe.stderr);
    const [uid, gid, ...writes] = probe.stdout.trim().split('\n');
    assert.equal(uid, '1000');
    assert.equal(gid, '1000');
    assert.equal(writes.length, 4, probe.stdout);
    for (const line of writes) assert.match(line, /Read-only file system/);
  });

  test('tenant-operator --help works', async () => {
    const help = await podmanRun(image, ['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: tenant-operator /m);
    for (const command of ['run', 'render', 'validate', 'crd', 'cluster']) {
      assert.match(help.stdout, new RegExp(`^\\s+${command}\\b`, 'm'), `lists ${command}`);
    }
  });

  test('ships config/member for cluster join', async () => {
    const listed = await podmanRun(
      image,
      [
        '--input-type=module',
        '-e',
        "const m = await import('/app/dist/members/member-manifests.js'); console.log((await m.memberManifests()).map((o) => o.kind).join(','))",
      ],
      { entrypoint: 'node' },
    );
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.trim(), 'Namespace,ServiceAccount,ClusterRole,ClusterRoleBinding,Secret');
  });

  describe('configured in-cluster on the local control plane', () => {
    let cluster: TestCluster;
    let peer: AuthPeer;
    let container: OperatorContainer | undefined;
    const tenant = uniqueName('image');
    let probeUrl: string;
    let metricsUrl: string;
    let startedAt: number;

    before(async () => {
      cluster = await useCluster();
      await installCrd(cluster);
      peer = await startAuthPeer({});
      const serviceAccountDir = await serviceAccountVolume(cluster);
      const probePort = await freePort();
      const metricsPort = await freePort();
      probeUrl = `http://127.0.0.1:${probePort}`;
      metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
      startedAt = Date.now();
      container = startOperatorContainer({
        image,
        name: `tenant-operator-it-${process.pid}`,
        serviceAccountDir,
        apiServer: new URL(cluster.cluster.state.server),
        args: [
          'run',
          '--auth-url',
          peer.url,
          '--metrics-bind-address',
          `127.0.0.1:${metricsPort}`,
          '--health-probe-bind-address',
          `127.0.0.1:${probePort}`,
          // The Lease goes to the namespace of the mounted ServiceAccount.
          '--leader-elect',
        ],
      });
    });

    after(async () => {
      await cluster.kubectl(['delete', 'tenant', tenant, '--ignore-not-found', '--timeout=120s']);
      await container?.remove();
      await peer?.close();
    });

    test('becomes ready, answering /healthz and /readyz', async () => {
      const c = container!;
      await waitFor(
        async () => {
          const exited = c.exitCode();
          if (exited !== undefined) throw new Error(`the container exited with ${exited}: ${await c.logs()}`);
          const response = await fetch(`${probeUrl}/readyz`).catch(() => undefined);
          return response?.ok === true || notYet(response?.status ?? 'no answer');
        },
        { timeoutMs: 120_000, description: `the container's /readyz (log: ${c.logFile})` },
      );
      console.log(`# container ready ${Date.now() - startedAt} ms after podman run`);
      assert.equal((await fetch(`${probeUrl}/healthz`)).status, 200);
      const logs = await c.logs();
      assert.match(logs, /in-cluster service account \/var\/run\/secrets\/kubernetes\.io\/serviceaccount/);
    });

    test('takes a tenant to Running and Ready, as the ServiceAccount of config/rbac', async () => {
      await applyTenant(cluster, tenant, { displayName: 'Run from the image' });
      await waitForReady(cluster, tenant, 180_000);
      const lease = await cluster.getJson<{ spec?: { holderIdentity?: string } }>([
        'lease',
        'neurallog-operator.neurallog.io',
        '-n',
        'neurallog-system',
      ]);
      assert.ok(lease?.spec?.holderIdentity, 'the leader Lease is in the mounted namespace');
    });

    test('serves /metrics with the reconcile it just did', async () => {
      const text = await (await fetch(metricsUrl)).text();
      assert.ok(metricValue(text, 'neurallog_operator_reconcile_total', { result: 'success' }) >= 1);
      assert.ok(metricValue(text, 'neurallog_operator_tenants', { phase: 'Running' }) >= 1);
    });

    test('deletes the tenant, then exits 0 on SIGTERM within the grace period', async () => {
      await cluster.kubectlOk(['delete', 'tenant', tenant, '--timeout=180s']);
      await waitForGone(cluster, ['namespace', `tenant-${tenant}`], 180_000);
      const c = container!;
      const stopping = Date.now();
      await c.terminate();
      const code = await waitFor(async () => c.exitCode() ?? notYet('still running'), {
        timeoutMs: GRACE_PERIOD_MS,
        description: 'the container to exit after SIGTERM',
      });
      console.log(`# container exited ${Date.now() - stopping} ms after SIGTERM`);
      assert.equal(code, 0, await c.logs());
    });
  });
});

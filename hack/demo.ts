/**
 * `npm run demo`: a local control plane, the CRD, a local Auth service, the operator, and the
 * sample tenants, then what they became. Everything keeps running afterwards; `npm run demo:down`
 * stops it all.
 *
 * `npm run demo -- --members 2`: also two more local control planes, joined as member clusters
 * with `tenant-operator cluster join`, and the tenants placed over them.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clusterDir, repoRoot } from '../test/cluster/config.ts';
import { down, up } from '../test/cluster/cluster.ts';
import { notYet, waitFor } from '../test/cluster/wait.ts';
import { joinArgs, tenantOperatorCli } from '../test/operator/cli.ts';

const node = join(repoRoot, 'node_modules', '.bin', 'node');
const stateFile = join(clusterDir(), 'demo.json');
const METRICS = '127.0.0.1:18080';
const PROBES = '127.0.0.1:18081';
const AUTH_PORT = 18300;

interface DemoState {
  pids: number[];
  /** State directories of the member clusters' control planes. */
  members?: string[];
  operatorLog: string;
  authLog: string;
}

function say(line: string): void {
  process.stdout.write(`\n==> ${line}\n`);
}

function detached(args: string[], logFile: string): number {
  const out = openSync(logFile, 'a');
  const child = spawn(node, args, { detached: true, stdio: ['ignore', out, out], cwd: repoRoot });
  child.unref();
  return child.pid ?? 0;
}

function kubectlRunner(kubectl: string, kubeconfig: string) {
  return (args: string[], input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(kubectl, ['--kubeconfig', kubeconfig, ...args]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      child.stdin.end(input ?? '');
    });
}

async function stopDemoProcesses(): Promise<void> {
  const state = JSON.parse(await readFile(stateFile, 'utf8').catch(() => '{"pids":[]}')) as DemoState;
  for (const pid of state.pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await rm(stateFile, { force: true });
}

function membersFlag(argv: readonly string[]): number {
  const at = argv.indexOf('--members');
  if (at < 0) return 0;
  const n = Number(argv[at + 1]);
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error('--members: give a whole number from 1 to 5');
  return n;
}

async function demoUp(): Promise<void> {
  const memberCount = membersFlag(process.argv.slice(2));
  say('Starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)');
  const cluster = await up();
  const kubectl = kubectlRunner(cluster.binaries.kubectl, cluster.kubeconfigPath);
  const ok = async (args: string[], input?: string) => {
    const result = await kubectl(args, input);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  say('Installing the CRDs (Tenant, MemberCluster)');
  await ok(['apply', '--server-side', '--force-conflicts', '-k', join(repoRoot, 'config/crd')]);
  // Polled: `kubectl wait` fails outright while a CRD just created has no conditions yet.
  for (const name of ['tenants.neurallog.io', 'memberclusters.neurallog.io']) {
    await waitFor(
      async () => {
        const crd = JSON.parse(await ok(['get', 'crd', name, '-o', 'json'])) as {
          status?: { conditions?: Array<{ type: string; status: string }> };
        };
        return (
          crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') || notYet()
        );
      },
      { timeoutMs: 60_000, description: `the CRD ${name} to be Established` },
    );
  }
  await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: neurallog-system\n');
  // The acme-corp sample asks for storage class fast-ssd; give the fake cluster one.
  const defaultClass = JSON.parse(await ok(['get', 'storageclass', 'kwok-volume', '-o', 'json'])) as {
    provisioner: string;
  };
  await ok(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'fast-ssd' },
      provisioner: defaultClass.provisioner,
      volumeBindingMode: 'Immediate',
    }),
  );

  await stopDemoProcesses();
  const operatorLog = join(clusterDir(), 'logs', 'operator.log');
  const authLog = join(clusterDir(), 'logs', 'auth-peer.log');
  say(`Starting a local Auth service on 127.0.0.1:${AUTH_PORT} and the operator (logs: ${operatorLog})`);
  const authPid = detached([join(repoRoot, 'test/auth-peer/main.ts'), '--port', String(AUTH_PORT)], authLog);
  const operatorPid = detached(
    [
      join(repoRoot, 'src/cli/main.ts'),
      'run',
      '--kubeconfig',
      cluster.kubeconfigPath,
      '--auth-url',
      `http://127.0.0.1:${AUTH_PORT}`,
      '--metrics-bind-address',
      METRICS,
      '--health-probe-bind-address',
      PROBES,
      '--leader-elect',
      '--leader-election-namespace',
      'neurallog-system',
    ],
    operatorLog,
  );
  const memberDirs = Array.from(
    { length: memberCount },
    (_, i) => `${clusterDir().replace(/\/+$/, '')}-member-${i + 1}`,
  );
  const state: DemoState = { pids: [operatorPid, authPid], operatorLog, authLog, members: memberDirs };
  await writeFile(stateFile, JSON.stringify(state));
  await waitFor(async () => (await fetch(`http://${PROBES}/readyz`).catch(() => undefined))?.ok === true, {
    timeoutMs: 60_000,
    description: `the operator to be ready (see ${operatorLog})`,
  });

  for (const [i, dir] of memberDirs.entries()) {
    const name = `member-${i + 1}`;
    say(`Starting member cluster ${name} (a control plane of its own in ${dir}) and joining it`);
    const member = await up({ stateDir: dir });
    // The acme-corp sample asks for storage class fast-ssd, wherever it is placed.
    const onMember = kubectlRunner(member.binaries.kubectl, member.kubeconfigPath);
    await onMember(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'fast-ssd' },
        provisioner: defaultClass.provisioner,
        volumeBindingMode: 'Immediate',
      }),
    );
    const joined = await tenantOperatorCli(
      joinArgs(
        name,
        { member: member.kubeconfigPath, management: cluster.kubeconfigPath },
        '--max-tenants',
        '10',
        '--label',
        `env=${i === 0 ? 'prod' : 'staging'}`,
      ),
    );
    if (joined.code !== 0) throw new Error(`cluster join ${name}: ${joined.stderr}`);
    process.stdout.write(joined.stdout);
  }
  if (memberCount > 0) {
    await waitFor(
      async () => {
        const list = JSON.parse(await ok(['get', 'memberclusters', '-o', 'json'])) as {
          items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }>;
        };
        return (
          list.items.length >= memberCount &&
          list.items.every((m) =>
            m.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          )
        );
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'every member cluster Ready' },
    );
    process.stdout.write(await ok(['get', 'memberclusters']));
  }

  say('Applying the sample tenants (config/samples)');
  process.stdout.write(await ok(['apply', '-k', join(repoRoot, 'config/samples')]));

  say('Waiting for every tenant to be Running');
  await waitFor(
    async () => {
      const list = JSON.parse(await ok(['get', 'tenants', '-o', 'json'])) as {
        items: Array<{ status?: { phase?: string } }>;
      };
      return list.items.length >= 3 && list.items.every((t) => t.status?.phase === 'Running');
    },
    { timeoutMs: 180_000, intervalMs: 500, description: 'all sample tenants to be Running' },
  );
  process.stdout.write(await ok(['get', 'tenants', '-o', 'wide']));
  if (memberCount > 0) {
    say('The member clusters, with the tenants placed on them');
    process.stdout.write(await ok(['get', 'memberclusters']));
  }

  const myTenant = JSON.parse(await ok(['get', 'tenant', 'my-tenant', '-o', 'json'])) as {
    status?: { placement?: { clusterName?: string } };
  };
  const placedOn = myTenant.status?.placement?.clusterName;
  const where = placedOn ? memberDirs[Number(placedOn.replace('member-', '')) - 1] : undefined;
  const onMember = where ? kubectlRunner(cluster.binaries.kubectl, join(where, 'kubeconfig')) : kubectl;
  say(`What the tenant my-tenant became (namespace tenant-my-tenant${placedOn ? ` on ${placedOn}` : ''})`);
  const objects = await onMember([
    'get',
    'all,configmap,secret,networkpolicy,resourcequota,limitrange,serviceaccount,role,rolebinding,pvc',
    '-n',
    'tenant-my-tenant',
  ]);
  process.stdout.write(objects.stdout);

  say('Events of my-tenant');
  const described = await ok(['describe', 'tenant', 'my-tenant']);
  process.stdout.write(described.slice(described.indexOf('Events:')));

  say('The demo keeps running. To talk to it:');
  process.stdout.write(
    [
      `  export KUBECONFIG=${cluster.kubeconfigPath}`,
      `  export PATH=${join(cluster.binaries.kubectl, '..')}:$PATH   # kubectl ${cluster.state.versions.kubernetes}`,
      '  kubectl get tenants -o wide',
      '  kubectl describe tenant my-tenant',
      '  kubectl patch tenant my-tenant --type=merge -p \'{"spec":{"server":{"replicas":3}}}\'',
      `  curl -s http://${METRICS}/metrics | grep neurallog_operator`,
      `  tail -f ${operatorLog}`,
      '',
      'To stop everything (operator, Auth service, control plane):',
      '  npm run demo:down',
      '',
    ].join('\n'),
  );
}

async function demoDown(): Promise<void> {
  const state = JSON.parse(await readFile(stateFile, 'utf8').catch(() => '{"pids":[]}')) as DemoState;
  await stopDemoProcesses();
  for (const dir of state.members ?? []) await down({ stateDir: dir });
  const stopped = await down();
  say(stopped ? 'Demo stopped and the control plane removed' : 'Nothing was running');
}

try {
  if (process.argv[2] === 'down') await demoDown();
  else await demoUp();
} catch (error) {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

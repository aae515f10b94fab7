// Lifecycle of the local control plane: etcd + kube-apiserver +
// kube-controller-manager + kube-scheduler + kwok, built by
// hack/cluster/build.sh and started on loopback with generated certificates.
//
//   ensureBuilt()    build (once per version) into the cache
//   up(options)      start a cluster, or reuse the healthy one already running
//   currentCluster() the running cluster, if healthy
//   down()           stop every process it started and remove its state
//
// State (pids, ports, certificates, kubeconfig, logs, etcd data) lives in
// `${NEURALLOG_CLUSTER_DIR:-$TMPDIR/neurallog-cluster}`, outside the repository.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createApiClient, createIfMissing, httpsGet, type ApiClient, type ApiResponse } from './api.ts';
import { generateCertificates, writeKubeconfig, type Certificates } from './certs.ts';
import {
  binaries,
  buildScript,
  clusterDir,
  isBuilt,
  readVersions,
  repoRoot,
  type Binaries,
  type Versions,
} from './config.ts';
import {
  groupRssBytes,
  isRunning,
  startDetached,
  stopGroup,
  tailLog,
  type ProcessRecord,
} from './processes.ts';
import { FatalWaitError, notYet, waitFor } from './wait.ts';

export const SERVICE_CIDR = '10.96.0.0/16';
export const SERVICE_IP = '10.96.0.1';
/** Pod IPs handed out by kwok (fake: nothing listens there; never connect to them). */
export const POD_CIDR = '10.244.0.0/16';
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const DEFAULT_STORAGE_CLASS = 'kwok-volume';
export const DEFAULT_PODS_PER_NODE = 110;

export interface ClusterState {
  /** Bumped when the shape changes; an older cluster is then replaced by `up`. */
  format: 2;
  stateDir: string;
  kubeconfigPath: string;
  server: string;
  versions: Versions;
  ports: {
    etcdClient: number;
    etcdPeer: number;
    apiserver: number;
    controllerManager: number;
    scheduler: number;
    kwok: number;
  };
  tls: { caCert: string; adminCert: string; adminKey: string };
  /** kube-apiserver audit log (JSON lines, Metadata level; see auditPolicy). */
  auditLogPath: string;
  nodes: string[];
  /** Pods each fake node takes (its allocatable `pods`). */
  podsPerNode?: number;
  /** `--kube-api-qps` of the controller manager and the scheduler (their burst is twice that). */
  controlPlaneQps?: number;
  processes: ProcessRecord[];
  createdAt: string;
  readyAt?: string;
  /** Seconds from the start of `up` to a ready cluster. */
  startupSeconds?: number;
}

export interface Cluster {
  kubeconfigPath: string;
  server: string;
  /** kube-apiserver audit log: one JSON event per line, stage ResponseComplete (and Panic). */
  auditLogPath: string;
  stateDir: string;
  binaries: Binaries;
  state: ClusterState;
  /** True when `up` found this cluster already running. */
  reused: boolean;
}

export type Logger = (line: string) => void;

const defaultLog: Logger = (line) => process.stderr.write(`[cluster] ${line}\n`);

export interface BuildOptions {
  log?: Logger;
  env?: Record<string, string | undefined>;
}

/** Builds the pinned binaries into the cache unless they are already there. */
export async function ensureBuilt(options: BuildOptions = {}): Promise<Binaries> {
  const env = options.env ?? process.env;
  const log = options.log ?? defaultLog;
  const versions = readVersions(env);
  const bins = binaries(versions);
  if (isBuilt(bins)) return bins;
  log(
    `building kubernetes ${versions.kubernetes}, etcd ${versions.etcd}, kwok ${versions.kwok} ` +
      `(first time only; takes a while on a small machine)`,
  );
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [buildScript], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${buildScript} failed (exit ${code ?? signal})`));
    });
  });
  if (!isBuilt(bins))
    throw new Error(`${buildScript} finished but binaries are missing under ${bins.kubeApiserver}`);
  log(`build finished in ${Math.round((Date.now() - started) / 1000)} s`);
  return bins;
}

export interface UpOptions {
  stateDir?: string;
  /** Number of fake (kwok) nodes. Default 3. */
  nodes?: number;
  /** Pods each fake node takes. Default 110 (the kubelet's default). */
  podsPerNode?: number;
  /**
   * Requests per second the controller manager and the scheduler may send (`--kube-api-qps`,
   * burst twice that). Default: Kubernetes' own (20 and 50). A benchmark of thousands of tenants
   * raises it, as a production control plane of that size would.
   */
  controlPlaneQps?: number;
  /** Deadline for each readiness phase. Default 120 s. */
  timeoutMs?: number;
  log?: Logger;
  /** Keep the state directory and processes of a failed start for debugging. */
  keepOnFailure?: boolean;
}

/** Starts a cluster, or returns the healthy one already running in the state dir. */
export async function up(options: UpOptions = {}): Promise<Cluster> {
  const log = options.log ?? defaultLog;
  const stateDir = options.stateDir ?? clusterDir();
  const bins = await ensureBuilt({ log });
  return withLock(`${stateDir}.lock`, async () => {
    const existing = await currentCluster({ stateDir });
    const wanted = readVersions();
    if (existing && JSON.stringify(existing.state.versions) !== JSON.stringify(wanted)) {
      log(
        `running cluster has ${JSON.stringify(existing.state.versions)}, versions.env wants ` +
          `${JSON.stringify(wanted)}; replacing it`,
      );
    } else if (existing && shapeDiffers(existing.state, options)) {
      log(
        `running cluster has ${existing.state.nodes.length} nodes of ${existing.state.podsPerNode ?? DEFAULT_PODS_PER_NODE} pods ` +
          `(control plane qps ${existing.state.controlPlaneQps ?? 'default'}); other options were asked for, replacing it`,
      );
    } else if (existing) {
      log(`reusing running cluster; KUBECONFIG=${existing.kubeconfigPath}`);
      return { ...existing, reused: true };
    }
    if (existsSync(stateDir)) {
      log(`found a stale or unhealthy cluster in ${stateDir}; cleaning it up`);
      await stopAndRemove(stateDir, log);
    }
    try {
      return await start(stateDir, bins, options, log);
    } catch (error) {
      if (options.keepOnFailure || process.env['NEURALLOG_CLUSTER_KEEP_FAILED'] === '1') {
        log(`start failed; leaving ${stateDir} for inspection (run \`down\` to clean up)`);
      } else {
        log(`start failed; stopping what was started (logs were in ${stateDir}/logs)`);
        await stopAndRemove(stateDir, log);
      }
      throw error;
    }
  });
}

/** Stops every process of the cluster and removes its state directory. */
export async function down(options: { stateDir?: string; log?: Logger } = {}): Promise<boolean> {
  const log = options.log ?? defaultLog;
  const stateDir = options.stateDir ?? clusterDir();
  return withLock(`${stateDir}.lock`, async () => {
    if (!existsSync(stateDir)) return false;
    await stopAndRemove(stateDir, log);
    return true;
  });
}

/** kube-apiserver's `/readyz` of a recorded cluster, asked with the admin certificate. */
export function apiserverReadyz(
  state: Pick<ClusterState, 'server' | 'tls'>,
  timeoutMs?: number,
): Promise<ApiResponse> {
  const { caCert, adminCert, adminKey } = state.tls;
  return httpsGet(`${state.server}/readyz`, { caCert, cert: adminCert, key: adminKey }, timeoutMs);
}

/** The cluster running in the state dir, if every process is alive and /readyz answers ok. */
export async function currentCluster(options: { stateDir?: string } = {}): Promise<Cluster | undefined> {
  const stateDir = options.stateDir ?? clusterDir();
  const state = readState(stateDir);
  if (!state?.readyAt) return undefined;
  if (!state.processes.every((p) => isRunning(p))) return undefined;
  try {
    const res = await apiserverReadyz(state);
    if (res.status !== 200) return undefined;
  } catch {
    return undefined;
  }
  return {
    kubeconfigPath: state.kubeconfigPath,
    server: state.server,
    auditLogPath: state.auditLogPath,
    stateDir,
    binaries: binaries(state.versions),
    state,
    reused: false,
  };
}

export interface ProcessStatus {
  name: string;
  pid: number;
  running: boolean;
  rssBytes: number;
  logFile: string;
}

export interface ClusterStatus {
  stateDir: string;
  state?: ClusterState;
  healthy: boolean;
  processes: ProcessStatus[];
  totalRssBytes: number;
}

export async function status(options: { stateDir?: string } = {}): Promise<ClusterStatus> {
  const stateDir = options.stateDir ?? clusterDir();
  const state = readState(stateDir);
  const healthy = (await currentCluster({ stateDir })) !== undefined;
  const processes = (state?.processes ?? []).map((p) => {
    const running = isRunning(p);
    return {
      name: p.name,
      pid: p.pid,
      running,
      rssBytes: running ? groupRssBytes(p.pgid) : 0,
      logFile: p.logFile,
    };
  });
  return {
    stateDir,
    state,
    healthy,
    processes,
    totalRssBytes: processes.reduce((sum, p) => sum + p.rssBytes, 0),
  };
}

/** Shell lines that point kubectl at the cluster (the `env` command). */
export function envLines(cluster: Pick<Cluster, 'kubeconfigPath' | 'binaries'>): string[] {
  const kubectlDir = cluster.binaries.kubectl.slice(0, cluster.binaries.kubectl.lastIndexOf('/'));
  return [
    `export KUBECONFIG=${shellQuote(cluster.kubeconfigPath)}`,
    `export PATH=${shellQuote(kubectlDir)}:"$PATH"`,
  ];
}

// ---------------------------------------------------------------------------

function statePath(stateDir: string): string {
  return join(stateDir, 'state.json');
}

function readState(stateDir: string): ClusterState | undefined {
  try {
    const state = JSON.parse(readFileSync(statePath(stateDir), 'utf8')) as ClusterState;
    return state.format === 2 ? state : undefined;
  } catch {
    return undefined;
  }
}

async function saveState(state: ClusterState): Promise<void> {
  const file = statePath(state.stateDir);
  await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** The processes recorded in a state file of any format. */
function readProcesses(stateDir: string): ProcessRecord[] {
  try {
    const state = JSON.parse(readFileSync(statePath(stateDir), 'utf8')) as { processes?: ProcessRecord[] };
    return Array.isArray(state.processes) ? state.processes : [];
  } catch {
    return [];
  }
}

async function stopAndRemove(stateDir: string, log: Logger): Promise<void> {
  const processes = readProcesses(stateDir);
  if (processes.length > 0) {
    // Reverse start order: kwok, scheduler, controller manager, apiserver, etcd.
    for (const record of [...processes].reverse()) {
      await stopGroup(record);
      log(`stopped ${record.name} (pid ${record.pid})`);
    }
  }
  await rm(stateDir, { recursive: true, force: true });
}

function pickFreePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  return Promise.all(
    servers.map(
      (server) =>
        new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            if (address && typeof address === 'object') resolve(address.port);
            else reject(new Error('no port'));
          });
        }),
    ),
  ).finally(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));
}

async function start(stateDir: string, bins: Binaries, options: UpOptions, log: Logger): Promise<Cluster> {
  const t0 = Date.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const nodeCount = options.nodes ?? 3;
  const versions = readVersions();
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const logs = join(stateDir, 'logs');
  const kubeconfigs = join(stateDir, 'kubeconfig.d');
  await mkdir(logs, { recursive: true });
  await mkdir(kubeconfigs, { recursive: true });

  const [etcdClient, etcdPeer, apiserverPort, controllerManager, scheduler, kwokPort] = (await pickFreePorts(
    6,
  )) as [number, number, number, number, number, number];
  const server = `https://127.0.0.1:${apiserverPort}`;
  const certs = await generateCertificates({ dir: join(stateDir, 'pki'), serviceIP: SERVICE_IP });
  const kubeconfigPath = join(stateDir, 'kubeconfig');
  const kcmKubeconfig = join(kubeconfigs, 'controller-manager.kubeconfig');
  const schedulerKubeconfig = join(kubeconfigs, 'scheduler.kubeconfig');
  await Promise.all([
    writeKubeconfig({
      path: kubeconfigPath,
      server,
      caCert: certs.caCert,
      client: certs.admin,
      user: 'neurallog-admin',
    }),
    writeKubeconfig({
      path: kcmKubeconfig,
      server,
      caCert: certs.caCert,
      client: certs.controllerManager,
      user: 'system:kube-controller-manager',
    }),
    writeKubeconfig({
      path: schedulerKubeconfig,
      server,
      caCert: certs.caCert,
      client: certs.scheduler,
      user: 'system:kube-scheduler',
    }),
  ]);
  log(`certificates and kubeconfigs written (${ms(t0)})`);

  const state: ClusterState = {
    format: 2,
    stateDir,
    kubeconfigPath,
    server,
    versions,
    ports: { etcdClient, etcdPeer, apiserver: apiserverPort, controllerManager, scheduler, kwok: kwokPort },
    tls: { caCert: certs.caCert, adminCert: certs.admin.cert, adminKey: certs.admin.key },
    auditLogPath: join(logs, 'audit.log'),
    nodes: Array.from({ length: nodeCount }, (_, i) => `kwok-node-${i}`),
    podsPerNode: options.podsPerNode ?? DEFAULT_PODS_PER_NODE,
    ...(options.controlPlaneQps ? { controlPlaneQps: options.controlPlaneQps } : {}),
    processes: [],
    createdAt: new Date(t0).toISOString(),
  };
  await saveState(state);
  const auditPolicyPath = join(stateDir, 'audit-policy.yaml');
  await writeFile(auditPolicyPath, auditPolicy);

  const launch = async (name: string, command: string, args: string[]): Promise<ProcessRecord> => {
    const record = startDetached({ name, command, args, logFile: join(logs, `${name}.log`), cwd: stateDir });
    state.processes.push(record);
    await saveState(state);
    return record;
  };
  const alive = async (record: ProcessRecord): Promise<void> => {
    if (!isRunning(record)) {
      throw new FatalWaitError(`${record.name} exited; last log lines:\n${await tailLog(record.logFile)}`);
    }
  };

  // etcd ---------------------------------------------------------------------
  const etcd = await launch('etcd', bins.etcd, etcdArgs(stateDir, etcdClient, etcdPeer));
  await waitFor(
    async () => {
      await alive(etcd);
      const res = await fetch(`http://127.0.0.1:${etcdClient}/health`);
      const body = (await res.json()) as { health?: string };
      return body.health === 'true' || notYet(body);
    },
    { timeoutMs, description: 'etcd /health' },
  );
  log(`etcd ${versions.etcd} healthy on 127.0.0.1:${etcdClient} (${ms(t0)})`);

  // kube-apiserver -------------------------------------------------------------
  const apiserver = await launch(
    'kube-apiserver',
    bins.kubeApiserver,
    apiserverArgs(stateDir, certs, apiserverPort, etcdClient, {
      policy: auditPolicyPath,
      log: state.auditLogPath,
    }),
  );
  const tls = { caCert: certs.caCert, cert: certs.admin.cert, key: certs.admin.key };
  await waitFor(
    async () => {
      await alive(apiserver);
      const res = await httpsGet(`${server}/readyz`, tls);
      return res.status === 200 || notYet(`HTTP ${res.status}: ${res.body.slice(0, 300)}`);
    },
    { timeoutMs, description: 'kube-apiserver /readyz' },
  );
  log(`kube-apiserver ${versions.kubernetes} ready at ${server} (${ms(t0)})`);

  // controllers, scheduler, kwok ----------------------------------------------
  const kcm = await launch('kube-controller-manager', bins.kubeControllerManager, [
    ...controllerManagerArgs(stateDir, certs, kcmKubeconfig, controllerManager),
    ...qpsArgs(options.controlPlaneQps),
  ]);
  const sched = await launch('kube-scheduler', bins.kubeScheduler, [
    ...schedulerArgs(stateDir, certs, schedulerKubeconfig, scheduler),
    ...qpsArgs(options.controlPlaneQps),
  ]);
  const kwok = await launch('kwok', bins.kwok, kwokArgs(certs, kubeconfigPath, kwokPort, bins));

  const api = createApiClient({ server, tls });
  await applyStorageClass(bins, kubeconfigPath);
  for (const name of state.nodes)
    await createIfMissing(api, '/api/v1/nodes', fakeNode(name, state.podsPerNode ?? DEFAULT_PODS_PER_NODE));
  log(`default StorageClass ${DEFAULT_STORAGE_CLASS} and ${nodeCount} kwok nodes created (${ms(t0)})`);

  const componentHealthy =
    (record: ProcessRecord, port: number) => async (): Promise<boolean | ReturnType<typeof notYet>> => {
      await alive(record);
      const res = await httpsGet(`https://127.0.0.1:${port}/healthz`, { caCert: certs.caCert });
      return res.status === 200 || notYet(`HTTP ${res.status}: ${res.body.slice(0, 300)}`);
    };
  await Promise.all([
    waitFor(componentHealthy(kcm, controllerManager), {
      timeoutMs,
      description: 'kube-controller-manager /healthz',
    }),
    waitFor(componentHealthy(sched, scheduler), { timeoutMs, description: 'kube-scheduler /healthz' }),
    waitFor(
      async () => {
        await alive(kwok);
        return nodesReady(api, state.nodes);
      },
      { timeoutMs, description: `nodes ${state.nodes.join(', ')} Ready (kwok)` },
    ),
    waitFor(
      async () => {
        await alive(kcm);
        const sa = await api.getJson('/api/v1/namespaces/default/serviceaccounts/default');
        return sa !== undefined || notYet('ServiceAccount default/default not created yet');
      },
      { timeoutMs, description: 'ServiceAccount default in namespace default' },
    ),
  ]);

  state.readyAt = new Date().toISOString();
  state.startupSeconds = Math.round((Date.now() - t0) / 100) / 10;
  await saveState(state);
  log(`cluster ready in ${state.startupSeconds} s; KUBECONFIG=${kubeconfigPath}`);
  return {
    kubeconfigPath,
    server,
    auditLogPath: state.auditLogPath,
    stateDir,
    binaries: bins,
    state,
    reused: false,
  };
}

function etcdArgs(stateDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=neurallog',
    `--data-dir=${join(stateDir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=neurallog=${peer}`,
    '--initial-cluster-state=new',
    '--unsafe-no-fsync', // test data: durability is not wanted, speed is
    '--log-level=warn',
  ];
}

// Audit: every request at Metadata level once it completes, except the
// background chatter of the control plane itself (kwok's node leases and
// status, leader/health probes, the controllers' and scheduler's reads).
// Blocking mode (the default of the log backend): an event is on disk before
// the response is sent, so a test can read the file right after a request.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  nonResourceURLs: ['/healthz*', '/livez*', '/readyz*', '/version', '/openapi*', '/api', '/apis', '/api/*', '/apis/*']
- level: None
  resources: [{ group: coordination.k8s.io, resources: [leases] }]
- level: None
  users: [system:kube-scheduler, system:kube-controller-manager, system:apiserver]
  verbs: [get, list, watch]
- level: None
  userGroups: [system:serviceaccounts:kube-system]
  verbs: [get, list, watch]
- level: Metadata
`;

function apiserverArgs(
  stateDir: string,
  certs: Certificates,
  port: number,
  etcdPort: number,
  audit: { policy: string; log: string },
): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // The `kubernetes` Service keeps no endpoints: Endpoints may not hold a
    // loopback address, and nothing in this cluster (fake pods) dials it.
    '--endpoint-reconciler-type=none',
    `--secure-port=${port}`,
    `--cert-dir=${join(stateDir, 'apiserver')}`,
    `--tls-cert-file=${certs.apiserver.cert}`,
    `--tls-private-key-file=${certs.apiserver.key}`,
    `--client-ca-file=${certs.caCert}`,
    '--authorization-mode=Node,RBAC',
    // Aggregation layer / delegated authentication of the controller manager
    // and scheduler read these from kube-system/extension-apiserver-authentication.
    `--requestheader-client-ca-file=${certs.frontProxyCaCert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${certs.frontProxyClient.cert}`,
    `--proxy-client-key-file=${certs.frontProxyClient.key}`,
    // Admission: the release's default plugin set, which includes NamespaceLifecycle,
    // ServiceAccount, PodSecurity, DefaultStorageClass, ResourceQuota, LimitRanger and the
    // webhook/policy plugins, plus OwnerReferencesPermissionEnforcement: setting
    // blockOwnerDeletion then needs `update` on the owner's finalizers, as on clusters that
    // enable it (the install test runs the operator with only the RBAC it ships).
    '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${certs.serviceAccountPub}`,
    `--service-account-signing-key-file=${certs.serviceAccountKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--allow-privileged=true',
    // kubelet API (logs/exec) is kwok's server on loopback.
    `--kubelet-client-certificate=${certs.admin.cert}`,
    `--kubelet-client-key=${certs.admin.key}`,
    '--kubelet-preferred-address-types=InternalIP',
    `--audit-policy-file=${audit.policy}`,
    `--audit-log-path=${audit.log}`,
    '--audit-log-format=json',
    '--audit-log-maxsize=500', // MB before rotation; a long-lived test cluster rarely gets there
    '--audit-log-maxbackup=4', // a bench at thousands of tenants writes several GB; its reader follows rotation
    '--profiling=false',
  ];
}

function controllerManagerArgs(
  stateDir: string,
  certs: Certificates,
  kubeconfig: string,
  port: number,
): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(stateDir, 'controller-manager')}`,
    `--tls-cert-file=${certs.loopbackServing.cert}`,
    `--tls-private-key-file=${certs.loopbackServing.key}`,
    `--client-ca-file=${certs.caCert}`,
    '--leader-elect=false',
    '--controllers=*', // all default controllers: namespace, garbage collector, deployment, replicaset, statefulset, PV binder, ...
    // Each controller acts as its own ServiceAccount with its bootstrap RBAC role
    // (system:controller:*), as in a real cluster; the controller manager's own
    // user may not do what, e.g., the root-CA publisher or GC need.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${certs.serviceAccountKey}`,
    `--root-ca-file=${certs.caCert}`,
    `--cluster-signing-cert-file=${certs.caCert}`,
    `--cluster-signing-key-file=${certs.caKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--cluster-name=neurallog-test',
    '--profiling=false',
  ];
}

function schedulerArgs(stateDir: string, certs: Certificates, kubeconfig: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(stateDir, 'scheduler')}`,
    `--tls-cert-file=${certs.loopbackServing.cert}`,
    `--tls-private-key-file=${certs.loopbackServing.key}`,
    `--client-ca-file=${certs.caCert}`,
    '--leader-elect=false',
    '--profiling=false',
  ];
}

function kwokArgs(certs: Certificates, kubeconfig: string, port: number, bins: Binaries): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--config=${bins.kwokStages.join(',')}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
    `--cidr=${POD_CIDR}`,
    // The "kubelet" of every fake node is kwok's own server on loopback, so
    // anything the API server proxies to a node stays on this machine.
    '--node-ip=127.0.0.1',
    `--node-port=${port}`,
    `--server-address=127.0.0.1:${port}`,
    `--tls-cert-file=${certs.loopbackServing.cert}`,
    `--tls-private-key-file=${certs.loopbackServing.key}`,
    '--node-lease-duration-seconds=40',
  ];
}

/** Options given explicitly that the running cluster does not have. */
function shapeDiffers(state: ClusterState, options: UpOptions): boolean {
  return (
    (options.nodes !== undefined && options.nodes !== state.nodes.length) ||
    (options.podsPerNode !== undefined &&
      options.podsPerNode !== (state.podsPerNode ?? DEFAULT_PODS_PER_NODE)) ||
    (options.controlPlaneQps !== undefined && options.controlPlaneQps !== state.controlPlaneQps)
  );
}

function qpsArgs(qps: number | undefined): string[] {
  return qps ? [`--kube-api-qps=${qps}`, `--kube-api-burst=${qps * 2}`] : [];
}

function fakeNode(name: string, pods: number): unknown {
  const resources = { cpu: '32', memory: '256Gi', pods: String(pods), 'ephemeral-storage': '1Ti' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': name,
        'node.kubernetes.io/instance-type': 'kwok',
        type: 'kwok',
      },
    },
    spec: {},
    status: { allocatable: resources, capacity: resources },
  };
}

interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

async function nodesReady(api: ApiClient, names: string[]): Promise<boolean | ReturnType<typeof notYet>> {
  const list = await api.getJson<NodeList>('/api/v1/nodes');
  const ready = new Set(
    (list?.items ?? [])
      .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata.name),
  );
  const missing = names.filter((n) => !ready.has(n));
  return missing.length === 0 || notYet(`not Ready: ${missing.join(', ')}`);
}

async function applyStorageClass(bins: Binaries, kubeconfig: string): Promise<void> {
  // kwok's own manifest: StorageClass "kwok-volume", default class, Immediate
  // binding; kwok's pvc-provision/pv-bind stages create and bind its volumes.
  const manifest = await readFile(bins.kwokStorageClass, 'utf8');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(bins.kubectl, ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`kubectl apply StorageClass failed: ${stderr.trim()}`)),
    );
    child.stdin.end(manifest);
  });
}

async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  await waitFor(() => tryLock(lockDir), {
    // A concurrent `up` may be waiting on a cold build; wait as long as it lives.
    timeoutMs: 90 * 60_000,
    intervalMs: 250,
    description: `lock ${lockDir}`,
  });
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function tryLock(lockDir: string): boolean {
  try {
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, 'owner'), String(process.pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Held: break it only when its owner is gone.
  let owner = NaN;
  try {
    owner = Number(readFileSync(join(lockDir, 'owner'), 'utf8'));
  } catch {
    try {
      if (Date.now() - statSync(lockDir).mtimeMs < 10_000) return false; // being created right now
    } catch {
      return false;
    }
  }
  if (Number.isInteger(owner) && owner > 0) {
    try {
      process.kill(owner, 0);
      return false;
    } catch {
      // owner died
    }
  }
  rmSync(lockDir, { recursive: true, force: true });
  return false;
}

function ms(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

// ---------------------------------------------------------------------------
// Faults of one component (reliability tests): stop a control-plane process and
// start it again with the same ports, data, certificates and log file.

/** The arguments a component of the cluster in `stateDir` was last started with. */
export function componentArgs(cluster: Pick<Cluster, 'stateDir'>, name: string): string[] {
  const record = readState(cluster.stateDir)?.processes.find((p) => p.name === name);
  if (!record) throw new Error(`no component "${name}" recorded in ${cluster.stateDir}`);
  return [...record.args];
}

/**
 * SIGTERMs one component (SIGKILL after `graceMs`) and waits until its process group is gone.
 * Its record stays in state.json, so `currentCluster`/`up` see the cluster as unhealthy until
 * `startComponent` runs: do not call `up` on the same state directory in between.
 */
export async function stopComponent(
  cluster: Pick<Cluster, 'stateDir'>,
  name: string,
  options: { graceMs?: number; kill?: boolean } = {},
): Promise<void> {
  const state = readState(cluster.stateDir);
  const record = state?.processes.find((p) => p.name === name);
  if (!state || !record) throw new Error(`no component "${name}" recorded in ${cluster.stateDir}`);
  await stopGroup(record, options.graceMs, options.kill);
}

/**
 * Starts a stopped component again: the recorded command and arguments (or `options.args`),
 * the same log file (appended). For kube-apiserver it waits until `/readyz` is ok; for the
 * others until the process is running. Returns the new process record (saved in state.json).
 */
export async function startComponent(
  cluster: Pick<Cluster, 'stateDir'>,
  name: string,
  options: { args?: string[]; timeoutMs?: number } = {},
): Promise<ProcessRecord> {
  const started = await withLock(`${cluster.stateDir}.lock`, async () => {
    const state = readState(cluster.stateDir);
    const index = state?.processes.findIndex((p) => p.name === name) ?? -1;
    const old = state?.processes[index];
    if (!state || !old) throw new Error(`no component "${name}" recorded in ${cluster.stateDir}`);
    if (isRunning(old)) throw new Error(`${name} (pid ${old.pid}) is still running; stop it first`);
    const record = startDetached({
      name,
      command: old.command,
      args: options.args ?? old.args,
      logFile: old.logFile,
      cwd: state.stateDir,
    });
    state.processes[index] = record;
    await saveState(state);
    return { state, record };
  });
  const { state, record } = started;
  const timeoutMs = options.timeoutMs ?? 120_000;
  await waitFor(
    async () => {
      if (!isRunning(record)) {
        throw new FatalWaitError(`${name} exited; last log lines:\n${await tailLog(record.logFile)}`);
      }
      if (name !== 'kube-apiserver') return true;
      const res = await apiserverReadyz(state);
      return res.status === 200 || notYet(`HTTP ${res.status}: ${res.body.slice(0, 300)}`);
    },
    { timeoutMs, description: `${name} to be running again${name === 'kube-apiserver' ? ' (/readyz)' : ''}` },
  );
  return record;
}

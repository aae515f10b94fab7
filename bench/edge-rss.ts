// Resident set of the two HTTP edges, without a control plane: a fresh `node --expose-gc` process
// imports the compiled build (`npm run build` first) of a checkout, makes one request to a
// loopback HTTPS stand-in of the API server (CA-verified, bearer token) through dist/kube/rest.js
// and one to a loopback HTTP Auth stand-in through dist/auth/client.js, then reads VmRSS after a
// forced GC, its pooled connections still open. Measured three ways, median of --runs processes
// each: a bare `node`; the edges alone (with the kubeconfig loader); the same after importing
// dist/operator/manager.js (the modules `tenant-operator run` loads, the command line aside).
// The servers run in this process, never in the measured one.
//
//   npm run build && node bench/edge-rss.ts [--root CHECKOUT-WITH-DIST] [--runs 5]
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { generateCertificates } from '../test/cluster/certs.ts';
import { repoRoot } from '../test/cluster/config.ts';

const { values: flags } = parseArgs({
  options: { root: { type: 'string', default: repoRoot }, runs: { type: 'string', default: '5' } },
});
const root = resolve(flags.root);
const runs = Number(flags.runs);
const run = promisify(execFile);

const EDGES = `
const dist = process.env.ROOT + '/dist';
const { kubeConfigFromText } = await import(dist + '/kube/client-config.js');
const { createKubeRest } = await import(dist + '/kube/rest.js');
const { createAuthClient } = await import(dist + '/auth/client.js');
const ca = Buffer.from(process.env.CA_PEM).toString('base64');
const kubeconfig = 'clusters: [{name: c, cluster: {server: "' + process.env.KUBE_URL + '", certificate-authority-data: ' + ca + '}}]\\n' +
  'users: [{name: u, user: {token: t}}]\\ncontexts: [{name: x, context: {cluster: c, user: u}}]\\ncurrent-context: x\\n';
const rest = createKubeRest(kubeConfigFromText(kubeconfig, 'bench'));
await rest.request('GET', '/api/v1/namespaces');
await createAuthClient({ baseUrl: process.env.AUTH_URL }).listTenants();
`;
const OPERATOR = `await import(process.env.ROOT + '/dist/operator/manager.js');\n${EDGES}`;
const READ_RSS = `
await new Promise((r) => setTimeout(r, 300));
gc();
await new Promise((r) => setTimeout(r, 300));
gc();
const status = process.getBuiltinModule('node:fs').readFileSync('/proc/self/status', 'utf8');
console.log(/^VmRSS:\\s+(\\d+)/m.exec(status)[1]);
process.exit(0);
`;

async function rssKiB(script: string, env: Record<string, string>): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', '--input-type=module', '-e', script + READ_RSS],
    { env: { ...process.env, ...env } },
  );
  return Number(stdout.trim().split('\n').at(-1));
}

const dir = await mkdtemp(join(tmpdir(), 'edge-rss-'));
const certs = await generateCertificates({ dir, serviceIP: '10.96.0.1', days: 1 });
const kube = https.createServer(
  { cert: readFileSync(certs.apiserver.cert), key: readFileSync(certs.apiserver.key) },
  (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"NamespaceList","items":[]}'),
);
const auth = http.createServer((_req, res) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"tenants":[]}'),
);
const listen = (server: http.Server) =>
  new Promise<number>((done) =>
    server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port)),
  );
const env = {
  ROOT: root,
  CA_PEM: readFileSync(certs.caCert, 'utf8'),
  KUBE_URL: `https://127.0.0.1:${await listen(kube)}`,
  AUTH_URL: `http://127.0.0.1:${await listen(auth)}`,
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
try {
  const variants = { bare: '', edges: EDGES, operatorModules: OPERATOR };
  const samples: Record<string, number[]> = { bare: [], edges: [], operatorModules: [] };
  for (let i = 0; i < runs; i++) {
    for (const [name, script] of Object.entries(variants)) samples[name]!.push(await rssKiB(script, env));
  }
  const result = {
    root,
    node: process.version,
    runs,
    medianMiB: Object.fromEntries(Object.entries(samples).map(([name, kib]) => [name, mib(median(kib))])),
    samplesMiB: Object.fromEntries(Object.entries(samples).map(([name, kib]) => [name, kib.map(mib)])),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  kube.closeAllConnections();
  auth.closeAllConnections();
  kube.close();
  auth.close();
  await rm(dir, { recursive: true, force: true });
}

// Certificates for a loopback control plane, made with the openssl CLI:
// one CA; a serving certificate for kube-apiserver (loopback + the
// `kubernetes` Service names and IP); one loopback serving certificate shared
// by kube-controller-manager, kube-scheduler and kwok; client certificates
// for the admin (O=system:masters), the controller manager and the
// scheduler (their RBAC bootstrap users); the service-account key pair; and a
// front-proxy CA + client certificate for the aggregation layer.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  cert: string;
  key: string;
}

export interface Certificates {
  dir: string;
  caCert: string;
  caKey: string;
  apiserver: KeyPair;
  loopbackServing: KeyPair;
  admin: KeyPair;
  controllerManager: KeyPair;
  scheduler: KeyPair;
  serviceAccountKey: string;
  serviceAccountPub: string;
  /** Separate CA for the aggregation layer's request-header authentication. */
  frontProxyCaCert: string;
  frontProxyClient: KeyPair;
}

export interface CertificateOptions {
  dir: string;
  /** First IP of the service range: the `kubernetes` Service's ClusterIP. */
  serviceIP: string;
  days?: number;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr.trim()}`, { cause: error });
  }
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function signed(
  options: { dir: string; name: string; subject: string; extensions: string[]; days: number },
  ca: { cert: string; key: string },
): Promise<KeyPair> {
  const { dir, name } = options;
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, `${options.extensions.join('\n')}\n`);
  await openssl(['req', '-new', ...ecKey, '-keyout', key, '-out', csr, '-subj', options.subject], dir);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-set_serial',
      `0x${randomSerial()}`,
      '-days',
      String(options.days),
      '-sha256',
      '-extfile',
      ext,
      '-out',
      cert,
    ],
    dir,
  );
  return { cert, key };
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // keep it positive
  return bytes.toString('hex');
}

export async function generateCertificates(options: CertificateOptions): Promise<Certificates> {
  const dir = options.dir;
  const days = options.days ?? 3650;
  await mkdir(dir, { recursive: true, mode: 0o700 });

  const makeCa = async (name: string, commonName: string): Promise<KeyPair> => {
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    await openssl(
      [
        'req',
        '-x509',
        ...ecKey,
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        String(days),
        '-sha256',
        '-subj',
        `/CN=${commonName}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      ],
      dir,
    );
    return { cert, key };
  };
  const [ca, frontProxyCa] = await Promise.all([
    makeCa('ca', 'neurallog-test-ca'),
    makeCa('front-proxy-ca', 'neurallog-test-front-proxy-ca'),
  ]);

  const server = (names: string[]): string[] => [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${names.join(',')}`,
  ];
  const client = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=clientAuth',
  ];

  const [apiserver, loopbackServing, admin, controllerManager, scheduler, frontProxyClient] =
    await Promise.all([
      signed(
        {
          dir,
          days,
          name: 'apiserver',
          subject: '/CN=kube-apiserver',
          extensions: server([
            'IP:127.0.0.1',
            'DNS:localhost',
            `IP:${options.serviceIP}`,
            'DNS:kubernetes',
            'DNS:kubernetes.default',
            'DNS:kubernetes.default.svc',
            'DNS:kubernetes.default.svc.cluster.local',
          ]),
        },
        ca,
      ),
      signed(
        {
          dir,
          days,
          name: 'loopback-serving',
          subject: '/CN=localhost',
          extensions: server(['IP:127.0.0.1', 'DNS:localhost']),
        },
        ca,
      ),
      signed(
        { dir, days, name: 'admin', subject: '/O=system:masters/CN=neurallog-admin', extensions: client },
        ca,
      ),
      signed(
        {
          dir,
          days,
          name: 'controller-manager',
          subject: '/CN=system:kube-controller-manager',
          extensions: client,
        },
        ca,
      ),
      signed({ dir, days, name: 'scheduler', subject: '/CN=system:kube-scheduler', extensions: client }, ca),
      signed(
        { dir, days, name: 'front-proxy-client', subject: '/CN=front-proxy-client', extensions: client },
        frontProxyCa,
      ),
    ]);

  // Service-account tokens: RSA, the one key type every consumer accepts.
  const serviceAccountKey = join(dir, 'service-account.key');
  const serviceAccountPub = join(dir, 'service-account.pub');
  await openssl(
    ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', serviceAccountKey],
    dir,
  );
  await openssl(['pkey', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPub], dir);

  return {
    dir,
    caCert: ca.cert,
    caKey: ca.key,
    apiserver,
    loopbackServing,
    admin,
    controllerManager,
    scheduler,
    serviceAccountKey,
    serviceAccountPub,
    frontProxyCaCert: frontProxyCa.cert,
    frontProxyClient,
  };
}

/** A kubeconfig with the certificates embedded, so the file can be copied anywhere. */
export async function writeKubeconfig(options: {
  path: string;
  server: string;
  caCert: string;
  client: KeyPair;
  user: string;
  clusterName?: string;
}): Promise<void> {
  const b64 = async (file: string): Promise<string> => (await readFile(file)).toString('base64');
  const cluster = options.clusterName ?? 'neurallog-test';
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${cluster}`,
    '  cluster:',
    `    server: ${options.server}`,
    `    certificate-authority-data: ${await b64(options.caCert)}`,
    'users:',
    `- name: ${options.user}`,
    '  user:',
    `    client-certificate-data: ${await b64(options.client.cert)}`,
    `    client-key-data: ${await b64(options.client.key)}`,
    'contexts:',
    `- name: ${cluster}`,
    '  context:',
    `    cluster: ${cluster}`,
    `    user: ${options.user}`,
    '    namespace: default',
    `current-context: ${cluster}`,
    '',
  ].join('\n');
  await writeFile(options.path, text, { mode: 0o600 });
}

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  KubeconfigInvalidError,
  KubeconfigNotFoundError,
  KubeconfigRefusedError,
  kubeConfigFromText,
  resolveKubeConfig,
} from './client-config.ts';

function kubeconfigYaml(name: string, server: string, extra = ''): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: ${server}
    certificate-authority: ca.pem
users:
- name: ${name}
  user:
    token: token-${name}
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: ${name}
    namespace: ns-${name}
${extra}`;
}

describe('resolveKubeConfig', () => {
  let root: string;
  let flagFile: string;
  let envFile: string;
  let envFile2: string;
  let home: string;
  let emptyHome: string;
  let sa: string;
  let noSa: string;

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'client-config-'));
    fs.writeFileSync(path.join(root, 'ca.pem'), 'CA OF root');
    flagFile = path.join(root, 'flag.yaml');
    fs.writeFileSync(
      flagFile,
      kubeconfigYaml('flag', 'https://flag.example:6443', 'current-context: flag\n'),
    );
    envFile = path.join(root, 'env.yaml');
    fs.writeFileSync(envFile, kubeconfigYaml('env', 'https://env.example:6443'));
    envFile2 = path.join(root, 'env2.yaml');
    fs.writeFileSync(
      envFile2,
      kubeconfigYaml('env', 'https://shadowed.example:6443', 'current-context: env\n')
        .replace(/clusters:/, 'clusters:\n- name: extra\n  cluster:\n    server: https://extra.example\n')
        .replace(
          /contexts:/,
          'contexts:\n- name: extra-ctx\n  context:\n    cluster: extra\n    user: env\n',
        ),
    );
    home = path.join(root, 'home');
    fs.mkdirSync(path.join(home, '.kube'), { recursive: true });
    fs.writeFileSync(path.join(home, '.kube', 'ca.pem'), 'CA OF home');
    fs.writeFileSync(
      path.join(home, '.kube', 'config'),
      kubeconfigYaml('home', 'https://home.example:6443', 'current-context: home\n'),
    );
    emptyHome = path.join(root, 'empty-home');
    fs.mkdirSync(emptyHome);
    sa = path.join(root, 'sa');
    fs.mkdirSync(sa);
    fs.writeFileSync(path.join(sa, 'token'), 'sa-token');
    fs.writeFileSync(path.join(sa, 'ca.crt'), 'ca');
    fs.writeFileSync(path.join(sa, 'namespace'), 'neurallog-system\n');
    noSa = path.join(root, 'no-sa');
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const inClusterEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

  it('prefers --kubeconfig over everything else', async () => {
    const r = resolveKubeConfig({
      kubeconfig: flagFile,
      env: { ...inClusterEnv, KUBECONFIG: envFile },
      homeDir: home,
      serviceAccountDir: sa,
    });
    assert.equal(r.source, 'flag');
    assert.equal(r.server, 'https://flag.example:6443');
    assert.equal(r.namespace, 'ns-flag');
    assert.equal(r.connection.tls.ca, 'CA OF root', 'relative paths resolved against the file');
    assert.equal(await r.connection.credentials.authorization(), 'Bearer token-flag');
  });

  it('uses the in-cluster service account before $KUBECONFIG and ~/.kube/config', async () => {
    const r = resolveKubeConfig({
      env: { ...inClusterEnv, KUBECONFIG: envFile },
      homeDir: home,
      serviceAccountDir: sa,
    });
    assert.equal(r.source, 'in-cluster');
    assert.equal(r.server, 'https://10.96.0.1:443');
    assert.equal(r.namespace, 'neurallog-system');
    assert.equal(r.connection.tls.ca, 'ca');
    assert.equal(await r.connection.credentials.authorization(), 'Bearer sa-token');
  });

  it('brackets an IPv6 service host', () => {
    const r = resolveKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      homeDir: emptyHome,
      serviceAccountDir: sa,
    });
    assert.equal(r.server, 'https://[fd00::1]:443');
  });

  it('refuses a mounted token without the service env vars', () => {
    assert.throws(
      () => resolveKubeConfig({ env: {}, homeDir: home, serviceAccountDir: sa }),
      (err: unknown) => err instanceof KubeconfigInvalidError && /KUBERNETES_SERVICE_HOST/.test(err.message),
    );
  });

  it('uses $KUBECONFIG before ~/.kube/config, merging a path list with the first file winning', () => {
    const r = resolveKubeConfig({
      env: { KUBECONFIG: [path.join(root, 'missing.yaml'), envFile, envFile2].join(path.delimiter) },
      homeDir: home,
      serviceAccountDir: noSa,
    });
    assert.equal(r.source, 'env');
    assert.equal(r.server, 'https://env.example:6443', 'env.yaml defines cluster "env" first');
    assert.ok(
      r.document?.clusters.some((c) => c.name === 'extra'),
      'names only in later files are merged in',
    );
    assert.equal(r.connection.context, 'env', 'current-context taken from the first file that sets it');
    assert.equal(r.origin, [envFile, envFile2].join(path.delimiter));
  });

  it('falls back to ~/.kube/config last', () => {
    const r = resolveKubeConfig({ env: {}, homeDir: home, serviceAccountDir: noSa });
    assert.equal(r.source, 'home');
    assert.equal(r.server, 'https://home.example:6443');
  });

  it('throws KubeconfigNotFoundError naming every place it looked, never falling back to localhost', () => {
    assert.throws(
      () => resolveKubeConfig({ env: {}, homeDir: emptyHome, serviceAccountDir: noSa }),
      (err: unknown) => {
        assert.ok(err instanceof KubeconfigNotFoundError);
        assert.equal(err.searched.length, 4);
        assert.match(err.message, /--kubeconfig \(not given\)/);
        assert.match(err.message, new RegExp(`${path.join(noSa, 'token')} \\(absent\\)`));
        assert.match(err.message, /\$KUBECONFIG \(not set\)/);
        assert.match(err.message, new RegExp(`${path.join(emptyHome, '.kube', 'config')} \\(absent\\)`));
        assert.match(err.message, /never falls back to http:\/\/localhost:8080/);
        return true;
      },
    );
  });

  it('treats a named but missing source as an error instead of trying the next one', () => {
    assert.throws(
      () =>
        resolveKubeConfig({
          kubeconfig: path.join(root, 'nope.yaml'),
          env: {},
          homeDir: home,
          serviceAccountDir: noSa,
        }),
      (err: unknown) =>
        err instanceof KubeconfigNotFoundError && /nope\.yaml \(no such file\)/.test(err.message),
    );
    assert.throws(
      () =>
        resolveKubeConfig({
          env: { KUBECONFIG: path.join(root, 'nope.yaml') },
          homeDir: home,
          serviceAccountDir: noSa,
        }),
      (err: unknown) =>
        err instanceof KubeconfigNotFoundError && /none of its files exists/.test(err.message),
    );
  });

  it('reports unparsable files and files without a usable current-context', () => {
    const bad = path.join(root, 'bad.yaml');
    fs.writeFileSync(bad, 'clusters: [ {');
    assert.throws(() => resolveKubeConfig({ kubeconfig: bad }), KubeconfigInvalidError);
    assert.throws(
      () => resolveKubeConfig({ kubeconfig: envFile }),
      (err: unknown) => err instanceof KubeconfigInvalidError && /no current-context/.test(err.message),
    );
    const dangling = path.join(root, 'dangling.yaml');
    fs.writeFileSync(dangling, kubeconfigYaml('x', 'https://x', 'current-context: other\n'));
    assert.throws(
      () => resolveKubeConfig({ kubeconfig: dangling }),
      (err: unknown) => err instanceof KubeconfigInvalidError && /"other" is not defined/.test(err.message),
    );
  });

  it('takes --context over current-context, and skips the service account for it', () => {
    const r = resolveKubeConfig({
      context: 'extra-ctx',
      env: { ...inClusterEnv, KUBECONFIG: envFile2 },
      homeDir: home,
      serviceAccountDir: sa,
    });
    assert.equal(r.source, 'env');
    assert.equal(r.connection.context, 'extra-ctx');
    assert.equal(r.server, 'https://extra.example');
  });
});

describe('kubeConfigFromText', () => {
  const secret = (user: string, cluster = 'certificate-authority-data: Q0E=') => `
clusters:
- name: member
  cluster: {server: "https://member.example:6443", ${cluster}}
users:
- name: member
  user: {${user}}
contexts:
- name: member
  context: {cluster: member, user: member, namespace: tenants}
current-context: member
`;

  it('builds a connection from inline data only', async () => {
    const c = kubeConfigFromText(secret('token: member-token'), 'Secret neurallog-system/member-a');
    assert.equal(c.server, 'https://member.example:6443');
    assert.equal(c.tls.ca, 'CA');
    assert.equal(c.namespace, 'tenants');
    assert.equal(await c.credentials.authorization(), 'Bearer member-token');
  });

  it('refuses exec plugins and file paths, naming the field', () => {
    const refused = (text: string, field: string) =>
      assert.throws(
        () => kubeConfigFromText(text, 'Secret neurallog-system/member-a'),
        (err: unknown) => {
          assert.ok(err instanceof KubeconfigRefusedError, String(err));
          assert.ok(err instanceof KubeconfigInvalidError, 'a refusal is an invalid configuration too');
          assert.equal(err.field, field);
          assert.match(err.message, /Secret neurallog-system\/member-a/);
          return true;
        },
      );
    refused(secret('exec: {apiVersion: client.authentication.k8s.io/v1, command: sh}'), 'users[0].user.exec');
    refused(
      secret('tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token'),
      'users[0].user.tokenFile',
    );
    refused(
      secret('client-certificate: /etc/c.crt, client-key-data: Sw=='),
      'users[0].user.client-certificate',
    );
    refused(secret('client-certificate-data: Qw==, client-key: /etc/k.key'), 'users[0].user.client-key');
    refused(
      secret('token: t', 'certificate-authority: /etc/ca.crt'),
      'clusters[0].cluster.certificate-authority',
    );
  });
});

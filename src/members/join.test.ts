import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLabels } from '../cli/cluster-command.ts';
import { kubeConfigFromText } from '../kube/client-config.ts';
import { JoinError, memberClusterFor, memberKubeconfig } from './join.ts';
import { JOINED_PREFIX, joinedKey } from './joined-marks.ts';
import { memberManifests } from './member-manifests.ts';

const base = {
  operatorNamespace: 'neurallog-system',
  managementServer: 'https://management:6443',
  tokenTimeoutMs: 1000,
  log: () => {},
};

describe('cluster join', () => {
  it('writes a MemberCluster that points at the kubeconfig Secret it writes', () => {
    assert.deepEqual(
      memberClusterFor({ ...base, name: 'prod-1', labels: { env: 'prod' }, maxTenants: 500 }),
      {
        apiVersion: 'neurallog.io/v1',
        kind: 'MemberCluster',
        metadata: { name: 'prod-1', labels: { env: 'prod' } },
        spec: {
          kubeconfigSecretRef: { name: 'prod-1-kubeconfig', namespace: 'neurallog-system' },
          maxTenants: 500,
        },
      },
    );
  });

  it('refuses a bad name, label or capacity, naming each, before anything is written', () => {
    assert.throws(
      () => memberClusterFor({ ...base, name: 'Prod_1', labels: { 'a b': 'x' }, maxTenants: -1 }),
      (error: unknown) =>
        error instanceof JoinError &&
        /NAME: must be 1-63 characters/.test(error.message) &&
        /--label \["a b"\]/.test(error.message) &&
        /spec\.maxTenants/.test(error.message) &&
        !/metadata\.name/.test(error.message),
    );
    assert.throws(() => parseLabels(['env']), /--label env: write it as key=value/);
    assert.deepEqual(parseLabels(['env=prod', 'tier=']), { env: 'prod', tier: '' });
  });

  it('writes a kubeconfig the operator accepts from a Secret: inline CA, a token, no files', () => {
    const text = memberKubeconfig(
      'prod-1',
      {
        server: 'https://prod-1.example:6443',
        tls: {
          ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
          insecureSkipTlsVerify: false,
          serverName: 'api.prod-1',
        },
      },
      'the-token',
    );
    const connection = kubeConfigFromText(text, 'test');
    assert.equal(connection.server, 'https://prod-1.example:6443');
    assert.match(connection.tls.ca ?? '', /BEGIN CERTIFICATE/);
    assert.equal(connection.tls.serverName, 'api.prod-1');
  });

  it('applies config/member/ as kustomize would: its five objects, labelled part-of neurallog', async () => {
    const objects = await memberManifests();
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        'Namespace/neurallog-system',
        'ServiceAccount/neurallog-operator-member',
        'ClusterRole/neurallog-operator-manager-role',
        'ClusterRoleBinding/neurallog-operator-member-rolebinding',
        'Secret/neurallog-operator-member-token',
      ],
    );
    for (const o of objects) assert.equal(o.metadata.labels?.['app.kubernetes.io/part-of'], 'neurallog');
  });

  it('marks each join by its management cluster and name with a valid annotation key', () => {
    const key = joinedKey('0f1e-uid', 'prod-1');
    assert.equal(key, joinedKey('0f1e-uid', 'prod-1'), 'the same join always gives the same key');
    assert.notEqual(key, joinedKey('0f1e-uid', 'prod-2'));
    assert.notEqual(key, joinedKey('another-management', 'prod-1'));
    assert.ok(key.startsWith(JOINED_PREFIX));
    assert.match(key.slice(JOINED_PREFIX.length), /^[a-z0-9]{1,63}$/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../kube/objects.ts';
import { memberClientFromSecret, secretFingerprint } from './member-connection.ts';

const ref = { name: 'prod-1-kubeconfig', namespace: 'neurallog-system', key: 'value' };
const options = { member: 'prod-1', timeoutMs: 1000, userAgent: 'test' };

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - name: prod-1
    cluster:
      server: https://prod-1.example:6443
      insecure-skip-tls-verify: true
users:
  - name: operator
    user:
      token: abc
contexts:
  - name: prod-1
    context: {cluster: prod-1, user: operator}
current-context: prod-1
`;

const secret = (data: Record<string, string>, resourceVersion = '1'): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: ref.name, namespace: ref.namespace, uid: 'u1', resourceVersion },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  }) as KubeObject;

describe('memberClientFromSecret', () => {
  it('builds a client for the server of a Cluster API kubeconfig Secret', async () => {
    const client = memberClientFromSecret(ref, secret({ value: KUBECONFIG }), options);
    assert.ok(client.ok);
    assert.equal(client.rest.server, 'https://prod-1.example:6443');
    await client.rest.close();
  });

  it('says what to do when the Secret, the key or the kubeconfig is missing or unusable', () => {
    const missing = memberClientFromSecret(ref, undefined, options);
    assert.deepEqual(missing.ok, false);
    assert.match(
      !missing.ok ? missing.message : '',
      /Secret neurallog-system\/prod-1-kubeconfig does not exist/,
    );
    const noKey = memberClientFromSecret(ref, secret({ config: KUBECONFIG }), options);
    assert.match(
      !noKey.ok ? noKey.message : '',
      /has no key value \(it has config\): set spec\.kubeconfigSecretRef\.key/,
    );
    const withExec = KUBECONFIG.replace(
      'token: abc',
      'exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}',
    );
    const refused = memberClientFromSecret(ref, secret({ value: withExec }), options);
    assert.match(!refused.ok ? refused.message : '', /is not a usable kubeconfig/);
    const garbage = memberClientFromSecret(ref, secret({ value: ': : :' }), options);
    assert.equal(garbage.ok, false);
  });

  it('changes its fingerprint when the Secret changes', () => {
    assert.notEqual(secretFingerprint(ref, secret({}, '1')), secretFingerprint(ref, secret({}, '2')));
    assert.equal(secretFingerprint(ref, undefined), 'absent');
  });
});

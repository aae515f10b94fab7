import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { KubeconfigInvalidError } from './kubeconfig-errors.ts';
import { mergeKubeconfigs, parseKubeconfig } from './kubeconfig-document.ts';

const FIXTURE = path.join(import.meta.dirname, 'testdata', 'several-contexts.yaml');

describe('parseKubeconfig', () => {
  it('reads every context, cluster and user of a kubeconfig, resolving paths against its directory', () => {
    const doc = parseKubeconfig(fs.readFileSync(FIXTURE, 'utf8'), FIXTURE, '/etc/kube');
    assert.equal(doc.currentContext, 'prod-token');
    assert.deepEqual(
      doc.contexts.map((c) => c.name),
      ['prod-token', 'staging-cert', 'lab-inline-cert', 'lab-token-file', 'lab-exec'],
    );
    const staging = doc.clusters.find((c) => c.name === 'staging')?.value;
    assert.equal(staging?.certificateAuthority, '/etc/kube/certs/staging-ca.pem');
    const cert = doc.users.find((u) => u.name === 'staging-cert')?.value;
    assert.equal(cert?.clientCertificate, '/etc/kube/certs/staging.crt');
    assert.equal(cert?.clientKey, '/etc/kube/certs/staging.key');
    assert.equal(doc.users.find((u) => u.name === 'lab-token-file')?.value.tokenFile, '/etc/kube/tokens/lab');
    assert.deepEqual(doc.users.find((u) => u.name === 'lab-exec')?.value.exec, {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: '/etc/kube/bin/credential-plugin',
      args: ['--cluster', 'lab'],
      env: [{ name: 'PLUGIN_MODE', value: 'test' }],
      installHint: 'Install the credential plugin from the lab wiki.',
      provideClusterInfo: true,
    });
    assert.equal(doc.clusters.find((c) => c.name === 'lab')?.value.insecureSkipTlsVerify, true);
  });

  it('keeps paths as written without a base directory, and a bare exec command for PATH lookup', () => {
    const doc = parseKubeconfig(
      'users: [{name: u, user: {tokenFile: t, exec: {apiVersion: v, command: plugin}}}]',
      'inline',
      '/base',
    );
    assert.equal(doc.users[0]?.value.exec?.command, 'plugin');
    assert.equal(doc.users[0]?.value.tokenFile, '/base/t');
    assert.equal(
      parseKubeconfig('users: [{name: u, user: {tokenFile: t}}]', 'inline').users[0]?.value.tokenFile,
      't',
    );
  });

  it('names the field at fault', () => {
    const fails = (text: string, field: string) =>
      assert.throws(
        () => parseKubeconfig(text, 'inline'),
        (err: unknown) =>
          err instanceof KubeconfigInvalidError && err.field === field && err.message.includes(field),
        field,
      );
    fails('clusters: [{name: c, cluster: {server: 6443}}]', 'clusters[0].cluster.server');
    fails(
      'clusters: [{name: c, cluster: {server: https://x, insecure-skip-tls-verify: "yes"}}]',
      'clusters[0].cluster.insecure-skip-tls-verify',
    );
    fails('clusters: [{cluster: {server: https://x}}]', 'clusters[0].name');
    fails('users: [{name: u}]', 'users[0].user');
    fails('contexts: [{name: x, context: {user: u}}]', 'contexts[0].context.cluster');
    fails('users: [{name: u, user: {exec: {command: p}}}]', 'users[0].user.exec.apiVersion');
    fails(
      'users: [{name: u, user: {exec: {apiVersion: v, command: p, args: [1]}}}]',
      'users[0].user.exec.args',
    );
    fails('clusters: {c: 1}', 'clusters');
    fails('kind: Secret', 'kind');
  });

  it('reports text that is not YAML, with the cause', () => {
    assert.throws(
      () => parseKubeconfig('clusters: [ {', 'inline'),
      (err: unknown) => err instanceof KubeconfigInvalidError && err.cause instanceof Error,
    );
  });
});

describe('mergeKubeconfigs', () => {
  it('lets the first document win per name and per current-context, as kubectl does', () => {
    const a = parseKubeconfig(
      'clusters: [{name: shared, cluster: {server: https://a}}]\ncontexts: [{name: x, context: {cluster: shared, user: u}}]',
      'a',
    );
    const b = parseKubeconfig(
      'current-context: x\nclusters: [{name: shared, cluster: {server: https://b}}, {name: only-b, cluster: {server: https://ob}}]\n' +
        'users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: only-b, user: u}}]',
      'b',
    );
    const merged = mergeKubeconfigs([a, b]);
    assert.deepEqual(
      merged.clusters.map((c) => [c.name, c.value.server]),
      [
        ['shared', 'https://a'],
        ['only-b', 'https://ob'],
      ],
    );
    assert.equal(merged.contexts.find((c) => c.name === 'x')?.value.cluster, 'shared');
    assert.equal(merged.currentContext, 'x', 'from b, the first to set it');
    assert.equal(merged.users.length, 1);
    assert.equal(merged.origin, ['a', 'b'].join(path.delimiter));
  });
});

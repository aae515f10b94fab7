import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectionFromDocument } from './connection.ts';
import { KubeconfigInvalidError } from './kubeconfig-errors.ts';
import { parseKubeconfig } from './kubeconfig-document.ts';

const FIXTURE = path.join(import.meta.dirname, 'testdata', 'several-contexts.yaml');

describe('connectionFromDocument', () => {
  let dir: string;
  const load = () => parseKubeconfig(fs.readFileSync(path.join(dir, 'config'), 'utf8'), 'config', dir);

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connection-'));
    fs.copyFileSync(FIXTURE, path.join(dir, 'config'));
    fs.mkdirSync(path.join(dir, 'certs'));
    fs.writeFileSync(path.join(dir, 'certs', 'staging-ca.pem'), 'CA OF STAGING');
    fs.writeFileSync(path.join(dir, 'certs', 'staging.crt'), 'CERT OF STAGING');
    fs.writeFileSync(path.join(dir, 'certs', 'staging.key'), 'KEY OF STAGING');
    fs.mkdirSync(path.join(dir, 'tokens'));
    fs.writeFileSync(path.join(dir, 'tokens', 'lab'), 'lab-token\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uses current-context: server without trailing slash, CA data, server name, token, namespace', async () => {
    const c = connectionFromDocument(load());
    assert.equal(c.context, 'prod-token');
    assert.equal(c.server, 'https://prod.example:6443');
    assert.deepEqual(c.tls, {
      ca: 'CA OF PROD',
      insecureSkipTlsVerify: false,
      serverName: 'api.prod.example',
    });
    assert.equal(await c.credentials.authorization(), 'Bearer prod-secret');
    assert.equal(c.namespace, 'tenants');
  });

  it('takes another context when asked (--context), with files relative to the kubeconfig', async () => {
    const c = connectionFromDocument(load(), { context: 'staging-cert' });
    assert.equal(c.server, 'https://[fd00::10]:6443');
    assert.deepEqual(c.tls, {
      ca: 'CA OF STAGING',
      cert: 'CERT OF STAGING',
      key: 'KEY OF STAGING',
      insecureSkipTlsVerify: false,
    });
    assert.equal(await c.credentials.authorization(), undefined, 'client certificate: no header');
    assert.equal(c.namespace, undefined);
  });

  it('decodes inline client certificate data and honours insecure-skip-tls-verify', () => {
    const c = connectionFromDocument(load(), { context: 'lab-inline-cert' });
    assert.deepEqual(c.tls, { cert: 'CERT OF LAB', key: 'KEY OF LAB', insecureSkipTlsVerify: true });
  });

  it('reads a tokenFile relative to the kubeconfig', async () => {
    const c = connectionFromDocument(load(), { context: 'lab-token-file' });
    assert.equal(await c.credentials.authorization(), 'Bearer lab-token');
  });

  it('names an unknown --context and lists the defined ones', () => {
    assert.throws(
      () => connectionFromDocument(load(), { context: 'nope' }),
      (err: unknown) =>
        err instanceof KubeconfigInvalidError &&
        /"nope" \(--context\) is not defined/.test(err.message) &&
        /prod-token, staging-cert/.test(err.message),
    );
  });

  it('names the field of a missing file, with the cause', () => {
    fs.renameSync(path.join(dir, 'certs', 'staging.key'), path.join(dir, 'certs', 'moved.key'));
    try {
      assert.throws(
        () => connectionFromDocument(load(), { context: 'staging-cert' }),
        (err: unknown) => {
          assert.ok(err instanceof KubeconfigInvalidError);
          assert.equal(err.field, 'users[1].user.client-key');
          assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT');
          return true;
        },
      );
    } finally {
      fs.renameSync(path.join(dir, 'certs', 'moved.key'), path.join(dir, 'certs', 'staging.key'));
    }
  });

  it('refuses a certificate without its key, a dangling user, auth-provider and proxy-url', () => {
    const doc = (user: string, cluster = 'server: https://x') =>
      parseKubeconfig(
        `clusters: [{name: c, cluster: {${cluster}}}]\nusers: [{name: u, user: {${user}}}]\n` +
          'contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
        'inline',
      );
    const fails = (d: ReturnType<typeof doc>, field: string) =>
      assert.throws(
        () => connectionFromDocument(d),
        (err: unknown) => err instanceof KubeconfigInvalidError && err.field === field,
        field,
      );
    fails(doc('client-certificate-data: Q0VSVA=='), 'users[0].user.client-key');
    fails(doc('auth-provider: {name: gcp}'), 'users[0].user.auth-provider');
    fails(
      doc('token: t', 'server: https://x, proxy-url: http://proxy:3128'),
      'clusters[0].cluster.proxy-url',
    );
    fails(doc('token: t', 'server: ftp://x'), 'clusters[0].cluster.server');
    fails(doc('client-key-data: "not base64!"'), 'users[0].user.client-key-data');
    fails(doc('username: admin'), 'users[0].user.password');
    const dangling = parseKubeconfig(
      'clusters: [{name: c, cluster: {server: https://x}}]\ncontexts: [{name: x, context: {cluster: c, user: ghost}}]\ncurrent-context: x\n',
      'inline',
    );
    fails(dangling, 'contexts[0].context.user');
  });

  it('sends basic auth for username and password', async () => {
    const d = parseKubeconfig(
      'clusters: [{name: c, cluster: {server: https://x}}]\nusers: [{name: u, user: {username: a, password: b}}]\n' +
        'contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
      'inline',
    );
    assert.equal(await connectionFromDocument(d).credentials.authorization(), `Basic ${btoa('a:b')}`);
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type Certificates, generateCertificates } from '../../test/cluster/certs.ts';
import { kubeConfigFromText } from './client-config.ts';
import type { Credentials } from './credentials.ts';
import { KubeApiError, KubeConnectionError, createKubeRest } from './rest.ts';

const b64 = (file: string) => fs.readFileSync(file).toString('base64');

describe('createKubeRest over TLS', () => {
  let dir: string;
  let certs: Certificates;
  let server: https.Server;
  let url: string;
  const seen: Array<{ path: string; authorization: string | undefined; clientCn: string | undefined }> = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rest-tls-'));
    certs = await generateCertificates({ dir, serviceIP: '10.96.0.1', days: 1 });
    server = https.createServer(
      {
        cert: fs.readFileSync(certs.apiserver.cert),
        key: fs.readFileSync(certs.apiserver.key),
        ca: fs.readFileSync(certs.caCert),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        seen.push({
          path: req.url ?? '',
          authorization: req.headers.authorization,
          clientCn: peer && 'subject' in peer ? (peer.subject?.CN as string | undefined) : undefined,
        });
        if (req.url === '/status/401') {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ kind: 'Status', code: 401, reason: 'Unauthorized', message: 'Unauthorized' }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const kubeconfig = (cluster: string, user: string) =>
    `clusters: [{name: c, cluster: {server: "${url}", ${cluster}}}]\nusers: [{name: u, user: {${user}}}]\n` +
    'contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n';

  it('verifies the server with the kubeconfig CA and presents the client certificate', async () => {
    const connection = kubeConfigFromText(
      kubeconfig(
        `certificate-authority-data: ${b64(certs.caCert)}`,
        `client-certificate-data: ${b64(certs.admin.cert)}, client-key-data: ${b64(certs.admin.key)}`,
      ),
      'test',
    );
    const rest = createKubeRest(connection);
    try {
      assert.deepEqual(await rest.request('GET', '/api/v1/namespaces'), { ok: true });
      const last = seen.at(-1);
      assert.equal(last?.clientCn, 'neurallog-admin');
      assert.equal(last?.authorization, undefined);
    } finally {
      await rest.close();
    }
  });

  it('rejects a server its CA did not sign, unless insecure-skip-tls-verify is set', async () => {
    const strict = createKubeRest(
      kubeConfigFromText(kubeconfig('insecure-skip-tls-verify: false', 'token: t'), 'test'),
    );
    try {
      await assert.rejects(strict.request('GET', '/x'), KubeConnectionError);
    } finally {
      await strict.close();
    }
    const insecure = createKubeRest(
      kubeConfigFromText(kubeconfig('insecure-skip-tls-verify: true', 'token: t'), 'test'),
    );
    try {
      assert.deepEqual(await insecure.request('GET', '/y'), { ok: true });
      assert.equal(seen.at(-1)?.authorization, 'Bearer t');
    } finally {
      await insecure.close();
    }
  });

  it('asks the credentials afresh after a 401', async () => {
    let invalidated = 0;
    const credentials: Credentials = {
      authorization: async () => `Bearer token-${invalidated}`,
      invalidate: () => void invalidated++,
    };
    const connection = {
      ...kubeConfigFromText(
        kubeconfig(`certificate-authority-data: ${b64(certs.caCert)}`, 'token: t'),
        'test',
      ),
      credentials,
    };
    const rest = createKubeRest(connection);
    try {
      await assert.rejects(
        rest.request('GET', '/status/401'),
        (err: unknown) => err instanceof KubeApiError && err.status === 401,
      );
      await rest.request('GET', '/after');
      assert.equal(seen.at(-1)?.authorization, 'Bearer token-1');
    } finally {
      await rest.close();
    }
  });
});

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHttpClient } from './client.ts';

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('createHttpClient', () => {
  const open = new Set<Socket>();
  let connections = 0;
  let received: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/hang') return;
      if (req.url === '/half') {
        res.writeHead(200).write('{"partial":');
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json', 'x-Mixed-Case': 'yes' }).end('{"ü":1}');
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  let origin: string;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => until(() => open.size === 0, 'no connection left by the test before'));
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends method, headers and body, and answers status, lower-case headers and text', async () => {
    received = [];
    const client = createHttpClient(origin);
    try {
      const answer = await client.send({
        method: 'PATCH',
        url: `${origin}/a?b=c`,
        headers: { 'content-type': 'application/merge-patch+json', 'user-agent': 'me' },
        body: '{"ü":true}',
      });
      assert.equal(answer.status, 201);
      assert.equal(answer.headers['x-mixed-case'], 'yes');
      assert.equal(await answer.text(), '{"ü":1}');
      assert.deepEqual(
        received.map((r) => [r.method, r.url, r.headers['content-type'], r.headers['user-agent'], r.body]),
        [['PATCH', '/a?b=c', 'application/merge-patch+json', 'me', '{"ü":true}']],
      );
      assert.equal(received[0]?.headers['content-length'], String(Buffer.byteLength('{"ü":true}')));
    } finally {
      client.close();
    }
  });

  it('reuses one connection for requests in a row, and close() closes it', async () => {
    const client = createHttpClient(origin);
    const before = connections;
    for (let i = 0; i < 5; i++) {
      await (await client.send({ method: 'GET', url: `${origin}/x`, headers: {} })).text();
    }
    assert.equal(connections - before, 1);
    assert.equal(open.size, 1);
    client.close();
    await until(() => open.size === 0, 'the pooled connection closed');
  });

  it('fails with the signal’s reason and drops the connection when aborted before the answer', async () => {
    const client = createHttpClient(origin);
    try {
      const controller = new AbortController();
      const pending = client.send({
        method: 'GET',
        url: `${origin}/hang`,
        headers: {},
        signal: controller.signal,
      });
      await until(() => open.size === 1, 'the request reached the server');
      const reason = new Error('stop');
      controller.abort(reason);
      await assert.rejects(pending, (error) => error === reason);
      await until(() => open.size === 0, 'the connection closed');
    } finally {
      client.close();
    }
  });

  it('fails the reading of a body when aborted meanwhile, and drops the connection', async () => {
    const client = createHttpClient(origin);
    try {
      const signal = AbortSignal.timeout(100);
      const answer = await client.send({ method: 'GET', url: `${origin}/half`, headers: {}, signal });
      assert.equal(answer.status, 200);
      await assert.rejects(answer.text(), (error: Error) => error.name === 'TimeoutError');
      await until(() => open.size === 0, 'the connection closed');
    } finally {
      client.close();
    }
  });

  it('refuses an already aborted signal without connecting', async () => {
    const client = createHttpClient(origin);
    const before = connections;
    await assert.rejects(
      client.send({ method: 'GET', url: `${origin}/x`, headers: {}, signal: AbortSignal.abort() }),
      (error: Error) => error.name === 'AbortError',
    );
    assert.equal(connections, before);
    client.close();
  });

  it('rejects with the system error when nothing listens', async () => {
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/`;
    await new Promise((resolve) => dead.close(resolve));
    const client = createHttpClient(url);
    await assert.rejects(
      client.send({ method: 'GET', url, headers: {} }),
      (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
    );
    client.close();
  });
});

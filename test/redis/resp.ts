// A minimal Redis (RESP2) client for tests: one connection, one command at a time, replies parsed
// into strings, numbers, arrays, null or a RedisReplyError. Enough to prove what a server does.
import { type Socket, connect } from 'node:net';

export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
  }
}

export type Reply = string | number | null | RedisReplyError | Reply[];

/** Parses one reply from `buffer` at `at`; undefined when the buffer does not hold all of it yet. */
function parse(buffer: Buffer, at: number): { reply: Reply; next: number } | undefined {
  const end = buffer.indexOf('\r\n', at);
  if (end < 0) return undefined;
  const type = String.fromCharCode(buffer[at]!);
  const line = buffer.toString('utf8', at + 1, end);
  const next = end + 2;
  switch (type) {
    case '+':
      return { reply: line, next };
    case '-':
      return { reply: new RedisReplyError(line), next };
    case ':':
      return { reply: Number(line), next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { reply: null, next };
      if (buffer.length < next + length + 2) return undefined;
      return { reply: buffer.toString('utf8', next, next + length), next: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { reply: null, next };
      const items: Reply[] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, position);
        if (!item) return undefined;
        items.push(item.reply);
        position = item.next;
      }
      return { reply: items, next: position };
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
  }
}

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

export interface RedisConnection {
  /** Sends one command and resolves with its reply (an error reply resolves as RedisReplyError). */
  command(...args: string[]): Promise<Reply>;
  close(): void;
}

export async function connectRedis(port: number, host = '127.0.0.1'): Promise<RedisConnection> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ port, host }, () => resolve(s));
    s.once('error', reject);
  });
  let buffer = Buffer.alloc(0);
  let waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  const settle = () => {
    if (!waiting) return;
    const parsed = parse(buffer, 0);
    if (!parsed) return;
    buffer = buffer.subarray(parsed.next);
    const w = waiting;
    waiting = undefined;
    w.resolve(parsed.reply);
  };
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    settle();
  });
  const fail = (error: Error) => {
    failure = error;
    waiting?.reject(error);
    waiting = undefined;
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('the Redis connection closed')));
  return {
    command(...args) {
      if (failure) return Promise.reject(failure);
      if (waiting) return Promise.reject(new Error('one command at a time'));
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        socket.write(encode(args));
      });
    },
    close() {
      socket.destroy();
    },
  };
}

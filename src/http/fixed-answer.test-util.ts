import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { HttpAnswer } from './client.ts';

/** An answer with a body known in advance, for fakes of an `HttpSend`. */
export function fixedAnswer(status: number, body = '', headers: IncomingHttpHeaders = {}): HttpAnswer {
  return { status, headers, body: Readable.from([body]), text: async () => body };
}

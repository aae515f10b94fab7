import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConnectionError, describeCause } from './errors.ts';

describe('describeCause', () => {
  it('gives the message, and the message of the cause', () => {
    assert.equal(describeCause(new Error('outer', { cause: new Error('inner') })), 'outer (inner)');
    assert.equal(describeCause('text'), 'text');
  });

  it('names every address tried when connecting to each of them failed', () => {
    // What node:net rejects with for a name with an IPv4 and an IPv6 address, neither listening.
    const refused = Object.assign(
      new AggregateError([
        new Error('connect ECONNREFUSED 127.0.0.1:6443'),
        new Error('connect ECONNREFUSED ::1:6443'),
      ]),
      { code: 'ECONNREFUSED' },
    );
    const error = new KubeConnectionError('https://localhost:6443', '/api', refused);
    assert.match(
      error.message,
      /\/api: connect ECONNREFUSED 127\.0\.0\.1:6443; connect ECONNREFUSED ::1:6443\. Check/,
    );
    assert.equal(error.cause, refused);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as index from 'prom-client';
import { Counter, Gauge, Histogram, Registry } from './prom.ts';

describe('prom-client without its index', () => {
  it('gives the very classes the package exports, so an upgrade that moves them fails here', () => {
    assert.equal(Registry, index.Registry);
    assert.equal(Counter, index.Counter);
    assert.equal(Gauge, index.Gauge);
    assert.equal(Histogram, index.Histogram);
  });
});

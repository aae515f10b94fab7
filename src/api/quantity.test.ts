import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidQuantityError, isQuantity, parseQuantity, quantityToBytes } from './quantity.ts';

test('parses decimal, binary and exponent suffixes', () => {
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('2'), 2);
  assert.equal(parseQuantity(4), 4);
  assert.equal(parseQuantity('128Mi'), 128 * 2 ** 20);
  assert.equal(parseQuantity('1.5Gi'), 1.5 * 2 ** 30);
  assert.equal(parseQuantity('1k'), 1000);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.equal(parseQuantity('.5'), 0.5);
  assert.equal(parseQuantity('1Ti'), 2 ** 40);
});

test('bytes are whole numbers', () => {
  assert.equal(quantityToBytes('256Mi'), 268435456);
  assert.equal(quantityToBytes('1.5Gi'), 1610612736);
  assert.equal(quantityToBytes('1500m'), 2);
});

test('rejects what the API server rejects', () => {
  for (const bad of ['lots', '-1Gi', '1GB', '1 Gi', '', 'Gi', -1, Number.NaN]) {
    assert.equal(isQuantity(bad), false, String(bad));
    assert.throws(() => parseQuantity(bad as string), InvalidQuantityError);
  }
});

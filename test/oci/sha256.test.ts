import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { JS_LIMIT, sha256Hex, sha256HexJs, smallHasher } from '../../src/oci/sha256.js';
import { digestOf } from '../../src/oci/digest.js';

const reference = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

test('the JavaScript SHA-256 matches node:crypto at every length across the padding boundaries', () => {
  for (let n = 0; n <= 300; n++) {
    const b = randomBytes(n);
    assert.equal(sha256HexJs(b), reference(b), `length ${n}`);
  }
  assert.equal(sha256HexJs(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('sha256Hex and digestOf hash a string as its UTF-8 bytes, on either side of the JavaScript limit', () => {
  for (const n of [JS_LIMIT - 1, JS_LIMIT, JS_LIMIT + 1, 3 * JS_LIMIT]) {
    const b = randomBytes(n);
    assert.equal(sha256Hex(b), reference(b), `length ${n}`);
  }
  const text = 'ENV greeting="héllo wörld ☃"';
  assert.equal(sha256Hex(text), reference(Buffer.from(text, 'utf8')));
  assert.equal(digestOf(text), `sha256:${reference(Buffer.from(text, 'utf8'))}`);
});

test('smallHasher gives the digest of its chunks concatenated, also after handing over to node:crypto', () => {
  for (const total of [0, 1000, JS_LIMIT, JS_LIMIT + 5, 200_000]) {
    const b = randomBytes(total);
    const h = smallHasher();
    for (let i = 0; i < total; i += 777) h.update(b.subarray(i, i + 777));
    if (total === 0) h.update('');
    assert.equal(h.digest(), reference(b), `total ${total}`);
  }
});

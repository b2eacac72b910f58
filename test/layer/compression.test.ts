import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { compressGzip, decompress, detectCompression } from '../../src/layer/compression.js';
import { isSlipwayError } from '../../src/errors.js';
import { chunked, collect, have, sh, tmpDir } from './helpers.js';

const DATA = Buffer.concat([crypto.randomBytes(300_000), Buffer.alloc(700_000, 'a')]);

const PROGRAMS = [
  { kind: 'gzip', cmd: ['gzip', '-c'] },
  { kind: 'bzip2', cmd: ['bzip2', '-c'] },
  { kind: 'xz', cmd: ['xz', '-c'] },
  { kind: 'zstd', cmd: ['zstd', '-q', '-c'] },
] as const;

describe('detectCompression', () => {
  const cases: Array<[number[], string]> = [
    [[0x1f, 0x8b, 8, 0], 'gzip'],
    [[0x42, 0x5a, 0x68, 0x39], 'bzip2'],
    [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz'],
    [[0x28, 0xb5, 0x2f, 0xfd], 'zstd'],
    [[0x61, 0x62, 0x63], 'none'],
    [[0x1f], 'none'],
    [[], 'none'],
  ];
  for (const [bytes, kind] of cases) {
    test(`${JSON.stringify(bytes)} -> ${kind}`, () => assert.equal(detectCompression(Buffer.from(bytes)), kind));
  }
});

async function expectCorrupt(input: Buffer, pattern: RegExp): Promise<void> {
  await assert.rejects(async () => collect(await decompress(chunked(input, 65536))), (err: unknown) => {
    assert.ok(isSlipwayError(err, 'INVALID_ARCHIVE'), String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

describe('decompress', () => {
  for (const { kind, cmd } of PROGRAMS) {
    test(`${kind} made by ${cmd[0]}`, { skip: have(cmd[0]) ? false : `${cmd[0]} missing` }, async () => {
      const packed = sh(cmd[0], cmd.slice(1), { input: DATA });
      assert.equal(detectCompression(packed), kind);
      for (const size of [7, 65536, 1 << 20]) {
        const out = await collect(await decompress(chunked(packed, size)));
        assert.ok(out.equals(DATA), `${kind} chunk ${size}`);
      }
      const flipped = Buffer.from(packed);
      const mid = Math.floor(packed.length / 2);
      flipped[mid] = (packed[mid] ?? 0) ^ 0xff;
      await expectCorrupt(flipped, new RegExp(kind, 'u'));
      await expectCorrupt(packed.subarray(0, packed.length - 20), new RegExp(kind, 'u'));
    });
  }

  test('uncompressed input passes through without losing bytes', async () => {
    assert.ok((await collect(await decompress(chunked(DATA, 3)))).equals(DATA));
    assert.ok((await collect(await decompress(chunked(Buffer.from('ab'))))).equals(Buffer.from('ab')));
    assert.equal((await collect(await decompress(chunked(Buffer.alloc(0))))).length, 0);
  });

  test('a missing program is named in the error', async () => {
    const packed = sh('zstd', ['-q', '-c'], { input: Buffer.from('x') });
    const saved = process.env.PATH;
    process.env.PATH = tmpDir();
    try {
      await assert.rejects(async () => collect(await decompress(chunked(packed))), (err: unknown) => {
        assert.ok(isSlipwayError(err, 'UNSUPPORTED'), String(err));
        assert.match(err.message, /zstd is not installed/u);
        return true;
      });
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('compressGzip', () => {
  test('output is read by gzip -d and by decompress', async () => {
    const packed = await collect(compressGzip(chunked(DATA, 10000), 1));
    assert.ok(sh('gzip', ['-dc'], { input: packed }).equals(DATA));
    assert.ok((await collect(await decompress(chunked(packed)))).equals(DATA));
  });
});

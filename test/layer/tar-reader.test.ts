import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readTar } from '../../src/layer/tar-reader.js';
import { isSlipwayError } from '../../src/errors.js';
import { computeChecksums, parseNumeric } from '../../src/layer/tar-format.js';
import { chunked, readAll, sh, tmpDir, trySetXattr } from './helpers.js';
import type { ReadEntry } from './helpers.js';

const LONG_DIR = `d1/${'a'.repeat(60)}/${'b'.repeat(60)}`;
const LONG_FILE = `${LONG_DIR}/file-with-125ish-chars.txt`;
const VERY_LONG = `${'p'.repeat(90)}/${'q'.repeat(90)}/${'r'.repeat(90)}/${'s'.repeat(40)}.bin`;
const LONG_TARGET = `../${'t'.repeat(120)}`;

/** A source tree exercising every feature; `full` adds what ustar cannot hold. */
function makeTree(full: boolean): string {
  const root = tmpDir();
  const src = path.join(root, 'src');
  fs.mkdirSync(path.join(src, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(src, 'dir/file.txt'), 'hello\n');
  fs.chmodSync(path.join(src, 'dir/file.txt'), 0o640);
  fs.linkSync(path.join(src, 'dir/file.txt'), path.join(src, 'hard'));
  fs.symlinkSync('dir/file.txt', path.join(src, 'link'));
  fs.writeFileSync(path.join(src, 'suid'), '#!/bin/sh\n');
  fs.chmodSync(path.join(src, 'suid'), 0o4755);
  sh('mkfifo', [path.join(src, 'fifo')]);
  fs.mkdirSync(path.join(src, LONG_DIR), { recursive: true });
  fs.writeFileSync(path.join(src, LONG_FILE), Buffer.alloc(70000, 7));
  if (full) {
    fs.mkdirSync(path.join(src, path.dirname(VERY_LONG)), { recursive: true });
    fs.writeFileSync(path.join(src, VERY_LONG), 'deep');
    fs.symlinkSync(LONG_TARGET, path.join(src, 'longlink'));
  }
  sh('find', [src, '-exec', 'touch', '-h', '-d', '@1600000000', '{}', '+']);
  return src;
}

function byName(entries: ReadEntry[]): Map<string, ReadEntry> {
  return new Map(entries.map((e) => [e.header.name.replace(/^\.\//u, ''), e]));
}

function get(m: Map<string, ReadEntry>, name: string): ReadEntry {
  const e = m.get(name);
  assert.ok(e, `entry ${name} missing; have ${[...m.keys()].join(', ')}`);
  return e;
}

describe('readTar on archives made by GNU tar', () => {
  for (const format of ['gnu', 'posix', 'ustar'] as const) {
    test(`--format=${format}`, async () => {
      const full = format === 'gnu' || format === 'posix';
      const src = makeTree(full);
      const tarFile = path.join(src, '..', 'out.tar');
      const owner = full ? ['--owner=bigid:1000000000', '--group=grp:1000000001'] : ['--owner=alice:1234', '--group=staff:55'];
      sh('tar', [`--format=${format}`, ...owner, '-C', src, '-cf', tarFile, '.']);
      for (const chunk of [0, 1000, 7]) {
        const m = byName(await readAll(tarFile, chunk));
        const file = get(m, 'dir/file.txt');
        assert.equal(file.header.type, 'file');
        assert.equal(file.body.toString(), 'hello\n');
        assert.equal(file.header.size, 6);
        assert.equal(file.header.mode, 0o640);
        assert.equal(file.header.mtime, 1600000000);
        if (full) {
          assert.equal(file.header.uid, 1000000000);
          assert.equal(file.header.gid, 1000000001);
          assert.equal(file.header.uname, 'bigid');
          assert.equal(file.header.gname, 'grp');
        } else if (format === 'ustar') {
          assert.deepEqual([file.header.uid, file.header.gid, file.header.uname, file.header.gname], [1234, 55, 'alice', 'staff']);
        }
        assert.equal(get(m, 'dir/').header.type, 'directory');
        const hard = get(m, 'hard');
        assert.equal(hard.header.type, 'link');
        assert.equal(hard.header.linkname.replace(/^\.\//u, ''), 'dir/file.txt');
        assert.equal(hard.body.length, 0);
        assert.deepEqual([get(m, 'link').header.type, get(m, 'link').header.linkname], ['symlink', 'dir/file.txt']);
        assert.equal(get(m, 'suid').header.mode, 0o4755);
        assert.equal(get(m, 'fifo').header.type, 'fifo');
        const long = get(m, LONG_FILE);
        assert.equal(long.header.size, 70000);
        assert.ok(long.body.equals(Buffer.alloc(70000, 7)));
        if (full) {
          assert.equal(get(m, VERY_LONG).body.toString(), 'deep');
          assert.equal(get(m, 'longlink').header.linkname, LONG_TARGET);
        }
      }
    });
  }

  test('--format=v7 (no magic): plain files, dirs and links', async () => {
    const src = tmpDir();
    fs.mkdirSync(path.join(src, 'd'));
    fs.writeFileSync(path.join(src, 'd/f'), 'v7 body');
    fs.symlinkSync('d/f', path.join(src, 's'));
    const out = sh('tar', ['--format=v7', '-C', src, '-cf', '-', 'd', 's']);
    const m = byName(await readAll(out));
    assert.equal(get(m, 'd/').header.type, 'directory');
    assert.equal(get(m, 'd/f').body.toString(), 'v7 body');
    assert.equal(get(m, 'd/f').header.format, 'v7');
    assert.equal(get(m, 's').header.linkname, 'd/f');
  });

  test('posix: xattrs, sub-second mtime and atime/ctime records', async (t) => {
    const src = tmpDir();
    const f = path.join(src, 'x');
    fs.writeFileSync(f, 'data');
    if (!trySetXattr(f, 'user.color', 'blue')) {
      t.skip('no way to set xattrs here');
      return;
    }
    sh('touch', ['-d', '@1600000000.25', f]);
    const out = sh('tar', ['--format=posix', '--xattrs', '--xattrs-include=user.*', '-C', src, '-cf', '-', 'x']);
    const [e] = await readAll(out);
    assert.ok(e);
    assert.equal(e.header.xattrs['user.color']?.toString(), 'blue');
    assert.equal(e.header.mtime, 1600000000.25);
    assert.ok('atime' in e.header.pax && 'ctime' in e.header.pax, JSON.stringify(e.header.pax));
    assert.equal(e.header.format, 'pax');
  });
});

function ustarBlock(name: string, size: number, fill?: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0);
  b.write('0000644\0', 100);
  b.write('0000000\0', 108);
  b.write('0000000\0', 116);
  b.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  b.write('00000000000\0', 136);
  b.write('0', 156);
  b.write('ustar\x0000', 257, 'latin1');
  fill?.(b);
  const [sum] = computeChecksums(b);
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

function member(name: string, body: string): Buffer {
  const data = Buffer.from(body);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([ustarBlock(name, data.length), data, pad]);
}

async function names(data: Buffer): Promise<string[]> {
  return (await readAll(data)).map((e) => e.header.name);
}

async function rejects(data: Buffer, pattern: RegExp): Promise<void> {
  await assert.rejects(readAll(data), (err: unknown) => {
    assert.ok(isSlipwayError(err, 'INVALID_ARCHIVE'), String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

describe('readTar end of archive and corruption (Go archive/tar rules)', () => {
  const two = Buffer.concat([member('a', 'AAA'), member('b', 'B')]);

  test('two zero blocks, one zero block then EOF, or clean EOF all end the archive', async () => {
    assert.deepEqual(await names(Buffer.concat([two, Buffer.alloc(1024)])), ['a', 'b']);
    assert.deepEqual(await names(Buffer.concat([two, Buffer.alloc(512)])), ['a', 'b']);
    assert.deepEqual(await names(two), ['a', 'b']);
    assert.deepEqual(await names(Buffer.concat([two, Buffer.alloc(10240)])), ['a', 'b']);
  });

  test('a zero block followed by a header is invalid', async () => {
    await rejects(Buffer.concat([member('a', 'x'), Buffer.alloc(512), member('b', 'y')]), /zero block followed by data.*"a"/u);
  });

  test('EOF inside a header, a body or its padding is rejected naming the entry', async () => {
    await rejects(two.subarray(0, 512 + 512 + 100), /end of archive inside a header .*after entry "a"/u);
    await rejects(two.subarray(0, 514), /entry "a": unexpected end of archive inside the body \(2 of 3 bytes\)/u);
    await rejects(two.subarray(0, 600), /entry "a": unexpected end of archive inside the padding/u);
  });

  test('a corrupted checksum is rejected naming the entry', async () => {
    const bad = Buffer.from(two);
    bad[520 + 512] = 0x41; // inside header "b"'s name field
    await rejects(bad, /entry "bA?": header checksum mismatch/u);
  });

  test('signed checksums (old writers) are accepted', async () => {
    const b = ustarBlock('caf\xe9', 0, (blk) => { blk[3] = 0xe9; });
    const [unsigned, signed] = computeChecksums(b);
    assert.notEqual(unsigned, signed);
    b.write(`${signed.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const entries = await readAll(Buffer.concat([b, Buffer.alloc(1024)]));
    assert.equal(entries.length, 1);
  });

  test('ustar prefix, PAX path override, GNU long name and global records', async () => {
    const prefixed = ustarBlock('name.txt', 0, (blk) => blk.write('some/prefix', 345));
    const paxData = Buffer.from('28 path=from/pax/header.txt\n');
    const pax = Buffer.concat([ustarBlock('PaxHeaders.0/x', paxData.length, (blk) => blk.write('x', 156)), paxData, Buffer.alloc(512 - paxData.length)]);
    const gData = Buffer.from('16 uname=global\n');
    const g = Buffer.concat([ustarBlock('g', gData.length, (blk) => blk.write('g', 156)), gData, Buffer.alloc(512 - gData.length)]);
    const longName = 'L'.repeat(300);
    const l = Buffer.concat([ustarBlock('././@LongLink', 301, (blk) => blk.write('L', 156)), Buffer.from(`${longName}\0`), Buffer.alloc(512 - 301)]);
    const data = Buffer.concat([prefixed, g, pax, member('truncated-name', 'P'), l, member('short', 'L')]);
    const entries = await readAll(data, 100);
    assert.deepEqual(entries.map((e) => e.header.name), ['some/prefix/name.txt', 'from/pax/header.txt', longName]);
    assert.deepEqual(entries.map((e) => e.header.uname), ['', 'global', 'global']);
    assert.equal(entries[1]?.body.toString(), 'P');
  });

  test('malformed PAX records are rejected', async () => {
    const paxData = Buffer.from('99 path=x\n');
    const pax = Buffer.concat([ustarBlock('p', paxData.length, (blk) => blk.write('x', 156)), paxData, Buffer.alloc(512 - paxData.length)]);
    await rejects(Buffer.concat([pax, member('a', 'x')]), /PAX record/u);
  });

  test('an unread body is skipped automatically; breaking out stops reading', async () => {
    const seen: string[] = [];
    for await (const e of readTar(chunked(Buffer.concat([member('a', 'A'.repeat(3000)), member('b', 'B')]), 512))) {
      seen.push(e.header.name);
      if (e.header.name === 'b') assert.equal((await e.buffer()).toString(), 'B');
    }
    assert.deepEqual(seen, ['a', 'b']);
    for await (const e of readTar(chunked(two))) {
      assert.equal(e.header.name, 'a');
      break;
    }
  });

  test('body as a Readable stream', async () => {
    const bodies: string[] = [];
    for await (const e of readTar(chunked(two, 3))) {
      const parts: Buffer[] = [];
      for await (const c of e.body) parts.push(c as Buffer);
      bodies.push(Buffer.concat(parts).toString());
    }
    assert.deepEqual(bodies, ['AAA', 'B']);
  });
});

describe('numeric fields', () => {
  const field = (bytes: number[], len: number): Buffer => {
    const b = Buffer.alloc(len);
    Buffer.from(bytes).copy(b, len - bytes.length);
    return b;
  };
  const cases: Array<[string, Buffer, number]> = [
    ['octal with NUL', Buffer.from('0000644\0'), 0o644],
    ['octal padded with spaces', Buffer.from('   644  '), 0o644],
    ['empty', Buffer.alloc(8), 0],
    ['base-256 uid 1000000000', (() => { const b = field([0x3b, 0x9a, 0xca, 0x00], 8); b[0] = 0x80; return b; })(), 1000000000],
    ['base-256 size 9 GiB', (() => { const b = field([0x02, 0x40, 0x00, 0x00, 0x00], 12); b[0] = 0x80; return b; })(), 9 * 2 ** 30],
    ['base-256 negative -1', Buffer.alloc(12, 0xff), -1],
  ];
  for (const [what, buf, expected] of cases) {
    test(what, () => assert.equal(parseNumeric(buf, 0, buf.length), expected));
  }
  test('invalid octal digits throw', () => assert.throws(() => parseNumeric(Buffer.from('00009\0'), 0, 6)));

  test('a GNU base-256 size larger than the input is a truncated body', async () => {
    const blk = ustarBlock('huge', 0, (b) => {
      b.write('ustar  \0', 257, 'latin1');
      b.fill(0, 124, 136);
      b[124] = 0x80;
      b.writeUIntBE(9 * 2 ** 30, 136 - 6, 6);
    });
    await rejects(Buffer.concat([blk, Buffer.alloc(4096, 1)]), /entry "huge": unexpected end of archive inside the body \(4096 of 9663676416 bytes\)/u);
  });
});

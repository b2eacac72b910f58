import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { TarWriter } from '../../src/layer/tar-writer.js';
import { TYPEFLAG } from '../../src/layer/tar-format.js';
import type { TarHeaderInput } from '../../src/layer/tar-format.js';
import { encodeHeader, normalizeHeader } from '../../src/layer/tar-encode.js';
import { isSlipwayError } from '../../src/errors.js';
import { collect, have, readAll, sh, tmpDir } from './helpers.js';

interface Case { h: TarHeaderInput; body?: string }

const LONG_SPLIT = `${'dir/'.repeat(30)}file.txt`; // 128 bytes, splittable into prefix/name
const LONG_PAX = `${'x'.repeat(120)}/${'y'.repeat(120)}/${'z'.repeat(120)}`;

/** Entries covering each way a header can be encoded. */
const CASES: Case[] = [
  { h: { name: 'etc/', type: 'directory', mode: 0o755, mtime: 1700000000 } },
  { h: { name: 'etc/hosts', mode: 0o644, uid: 0, gid: 0, mtime: 1700000001 }, body: '127.0.0.1 localhost\n' },
  { h: { name: 'bin/su', mode: 0o4755, mtime: 1700000002 }, body: 'suid' },
  { h: { name: 'tmp/', type: 'directory', mode: 0o1777, mtime: 1700000003 } },
  { h: { name: 'link', type: 'symlink', linkname: 'etc/hosts', mode: 0o777, mtime: 1700000004 } },
  { h: { name: 'hard', type: 'link', linkname: 'etc/hosts', mode: 0o644, mtime: 1700000001 } },
  { h: { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3, mtime: 1 } },
  { h: { name: 'dev/loop0', type: 'block', mode: 0o660, devmajor: 7, devminor: 0, gid: 6, mtime: 1 } },
  { h: { name: 'run/fifo', type: 'fifo', mode: 0o600, mtime: 1 } },
  { h: { name: 'x'.repeat(100), mtime: 5 }, body: 'exactly 100' },
  { h: { name: LONG_SPLIT, mtime: 6 }, body: 'split into prefix' },
  { h: { name: `${LONG_SPLIT.slice(0, -9)}/`, type: 'directory', mtime: 6 } },
  { h: { name: LONG_PAX, mtime: 7 }, body: 'needs a PAX path' },
  { h: { name: 'longlink', type: 'symlink', linkname: `../${'t'.repeat(150)}`, mtime: 8 } },
  { h: { name: 'bigid', uid: 1000000000, gid: 2097152, mtime: 9 }, body: 'big ids' },
  { h: { name: 'maxid', uid: 0o7777777, gid: 0o7777777, mtime: 9 }, body: 'max octal ids' },
  { h: { name: 'café/naïve.txt', mtime: 10 }, body: 'utf-8 name' },
  { h: { name: 'owned', uname: 'alice', gname: 'staff', uid: 1000, gid: 50, mtime: 11 }, body: 'names' },
  { h: { name: 'longowner', uname: 'u'.repeat(40), gname: 'g', mtime: 11 } },
  { h: { name: 'caps', mtime: 12, xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2, 0x20, 0, 0, 0]), 'user.b': 'two', 'user.a': 'one' } }, body: 'x' },
  { h: { name: 'future', mtime: 8 ** 11 + 5 }, body: '' },
];

async function writeOurs(cases: Case[], opts = {}): Promise<Buffer> {
  const tw = new TarWriter(opts);
  const out = collect(tw);
  for (const c of cases) await tw.addEntry(c.h, c.body === undefined ? undefined : Buffer.from(c.body));
  await tw.finish();
  return out;
}

function goJson(cases: Case[], nanos = false): string {
  return JSON.stringify(cases.map(({ h, body }) => {
    const type = h.type ?? 'file';
    const mtime = typeof h.mtime === 'number' ? h.mtime : 0;
    const xattrs = Object.fromEntries(Object.entries(h.xattrs ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    return {
      name: h.name, typeflag: type === 'other' ? h.typeflag : TYPEFLAG[type], mode: h.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      uid: h.uid ?? 0, gid: h.gid ?? 0, uname: h.uname ?? '', gname: h.gname ?? '', mtime: Math.floor(mtime),
      nanos: nanos ? Math.round((mtime - Math.floor(mtime)) * 1e9) : 0, linkname: h.linkname ?? '',
      devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0, xattrs, body: Buffer.from(body ?? '').toString('base64'), size: Buffer.byteLength(body ?? ''),
    };
  }));
}

const GO_FIXTURE = path.resolve('test/layer/fixtures/gotar.go');

function goTar(json: string): Buffer {
  const cache = tmpDir('slipway-gocache-');
  return sh('env', [`GOCACHE=${cache}`, 'GOFLAGS=', 'GO111MODULE=off', 'go', 'run', GO_FIXTURE], { input: Buffer.from(json) });
}

describe('TarWriter matches Go archive/tar (Format PAX, as Docker writes layers)', () => {
  const skip = !have('go') || !fs.existsSync(GO_FIXTURE) ? 'needs the go toolchain and the repository checkout' : false;

  test('byte-identical output for every header shape', { skip }, async () => {
    const ours = await writeOurs(CASES);
    const theirs = goTar(goJson(CASES));
    for (let i = 0; i < Math.max(ours.length, theirs.length); i += 512) {
      if (!ours.subarray(i, i + 512).equals(theirs.subarray(i, i + 512))) {
        assert.fail(`block at ${i} differs:\nours:   ${JSON.stringify(ours.subarray(i, i + 512).toString('latin1'))}\ntheirs: ${JSON.stringify(theirs.subarray(i, i + 512).toString('latin1'))}`);
      }
    }
    assert.equal(ours.length, theirs.length);
  });

  test('sub-second mtimes only when asked, like Go with nanoseconds', { skip }, async () => {
    const cases: Case[] = [{ h: { name: 'f', mtime: 1700000000.5 }, body: 'x' }];
    assert.ok((await writeOurs(cases, { preciseMtime: true })).equals(goTar(goJson(cases, true))));
    assert.ok((await writeOurs(cases)).equals(goTar(goJson(cases, false))));
  });
});

describe('TarWriter output read by GNU tar', () => {
  test('tar -tv lists names, modes, owners, sizes and link targets', async () => {
    const tar = await writeOurs(CASES.filter((c) => c.h.name !== 'future'));
    const listing = sh('tar', ['--numeric-owner', '-tvf', '-'], { input: tar }).toString().split('\n');
    const line = (name: string): string => {
      const l = listing.find((x) => x.includes(` ${name}`));
      assert.ok(l, `${name} not listed:\n${listing.join('\n')}`);
      return l;
    };
    assert.match(line('etc/hosts'), /^-rw-r--r-- 0\/0 +20 .* etc\/hosts$/u);
    assert.match(line('bin/su'), /^-rwsr-xr-x /u);
    assert.match(line('tmp/'), /^drwxrwxrwt /u);
    assert.match(line('link ->'), /^lrwxrwxrwx .* link -> etc\/hosts$/u);
    assert.match(line('hard link to'), /hard link to etc\/hosts$/u);
    assert.match(line('dev/null'), /^crw-rw-rw- 0\/0 +1,3 /u);
    assert.match(line('bigid'), /^-rw-r--r-- 1000000000\/2097152 +7 /u);
    assert.match(line(LONG_PAX), /needs|x{120}/u);
    assert.match(line('café/naïve.txt'), /10 .*café\/naïve.txt$/u);
    assert.match(line('longlink ->'), new RegExp(`-> \\.\\./t{150}$`, 'u'));
  });

  test('tar -x extracts identical contents, modes, owners and mtimes', async () => {
    const dir = tmpDir();
    const cases = CASES.filter((c) => !['dev/null', 'dev/loop0', 'future'].includes(c.h.name));
    sh('tar', ['--numeric-owner', '-xf', '-', '-C', dir], { input: await writeOurs(cases) });
    for (const { h, body } of cases) {
      const p = path.join(dir, h.name);
      const st = fs.lstatSync(p);
      const type = h.type ?? 'file';
      if (type === 'file') assert.equal(fs.readFileSync(p, 'utf8'), body ?? '', h.name);
      if (type === 'symlink') assert.equal(fs.readlinkSync(p), h.linkname);
      if (type !== 'symlink') assert.equal(st.mode & 0o7777, h.mode ?? (type === 'directory' ? 0o755 : 0o644), h.name);
      if (process.getuid?.() === 0) assert.deepEqual([st.uid, st.gid], [h.uid ?? 0, h.gid ?? 0], h.name);
      if (type !== 'directory' || h.name === 'tmp/') assert.equal(Math.floor(st.mtimeMs / 1000), h.mtime, h.name);
    }
    assert.equal(fs.statSync(path.join(dir, 'hard')).ino, fs.statSync(path.join(dir, 'etc/hosts')).ino);
  });
});

describe('TarWriter round trip and errors', () => {
  test('our reader returns what we wrote', async () => {
    const entries = await readAll(await writeOurs(CASES), 333);
    assert.equal(entries.length, CASES.length);
    CASES.forEach((c, i) => {
      const e = entries[i];
      assert.ok(e);
      assert.equal(e.header.name, c.h.name);
      assert.equal(e.header.type, c.h.type ?? 'file');
      assert.equal(e.body.toString(), c.body ?? '');
      assert.equal(e.header.uid, c.h.uid ?? 0);
      assert.equal(e.header.mtime, c.h.mtime);
      assert.equal(e.header.linkname, c.h.linkname ?? '');
      assert.equal(e.header.uname, c.h.uname ?? '');
      for (const [k, v] of Object.entries(c.h.xattrs ?? {})) assert.ok(e.header.xattrs[k]?.equals(Buffer.from(v)), k);
    });
  });

  test('sizes above 8 GiB get a PAX size record', () => {
    const blocks = encodeHeader(normalizeHeader({ name: 'huge', size: 9 * 2 ** 30 }, null));
    const pax = Buffer.concat(blocks).toString('latin1');
    assert.match(pax, /19 size=9663676416\n/u);
    assert.equal(blocks.length, 4);
  });

  test('streamed bodies with backpressure, and size mismatches', async () => {
    const tw = new TarWriter({ highWaterMark: 1024 });
    const big = Buffer.alloc(1 << 20, 1);
    const chunks = Array.from({ length: 8 }, () => big);
    const out = collect(tw);
    await tw.addEntry({ name: 'big', size: 8 << 20 }, Readable.from(chunks));
    await tw.finish();
    const [e] = await readAll(await out);
    assert.equal(e?.body.length, 8 << 20);

    const bad = new TarWriter();
    const sink = collect(bad);
    await assert.rejects(bad.addEntry({ name: 'short', size: 10 }, Readable.from([Buffer.from('abc')])), (err: unknown) => isSlipwayError(err, 'INVALID_ARGUMENT') && /short/u.test(err.message));
    await assert.rejects(sink);
  });
});

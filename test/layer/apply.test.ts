import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { applyLayer } from '../../src/layer/apply.js';
import { scanTar } from '../../src/layer/scan.js';
import { decompress } from '../../src/layer/compression.js';
import zlib from 'node:zlib';
import { TarWriter } from '../../src/layer/tar-writer.js';
import type { TarHeaderInput } from '../../src/layer/tar-format.js';
import { isSlipwayError } from '../../src/errors.js';
import { chunked, collect, sh, tmpDir } from './helpers.js';

type Spec = [TarHeaderInput, string?];

async function makeTar(specs: Spec[]): Promise<Buffer> {
  const tw = new TarWriter();
  const out = collect(tw);
  for (const [h, body] of specs) await tw.addEntry(h, body === undefined ? undefined : Buffer.from(body));
  await tw.finish();
  return out;
}

const isRoot = process.getuid?.() === 0;
const OUTSIDE = `slipway-escape-${process.pid}`;

/** Each unsafe archive, with what the error must say. */
const UNSAFE: Array<{ what: string; specs: Spec[]; msg: RegExp; lower?: (dest: string) => void }> = [
  { what: '../x', specs: [[{ name: `../${OUTSIDE}` }, 'evil']], msg: /entry "\.\.\/slipway-escape-\d+": path escapes the target/u },
  { what: 'a/../../x', specs: [[{ name: `a/../../${OUTSIDE}` }, 'evil']], msg: /path escapes the target/u },
  { what: 'absolute /tmp/x', specs: [[{ name: `/tmp/${OUTSIDE}` }, 'evil']], msg: /absolute path is not allowed/u },
  {
    what: 'symlink a -> / then a/x',
    specs: [[{ name: 'a', type: 'symlink', linkname: '/' }], [{ name: `a/tmp/${OUTSIDE}` }, 'evil']],
    msg: /entry "a\/tmp\/slipway-escape-\d+": path goes through the symlink "a"/u,
  },
  {
    what: 'symlink a -> .. (relative escape)',
    specs: [[{ name: 'a', type: 'symlink', linkname: '../..' }], [{ name: `a/${OUTSIDE}` }, 'evil']],
    msg: /symlink target "\.\.\/\.\." escapes the target/u,
  },
  { what: 'hardlink to ../../x', specs: [[{ name: 'h', type: 'link', linkname: '../../etc/passwd' }]], msg: /hard link target escapes the target/u },
  { what: 'hardlink to /etc/passwd', specs: [[{ name: 'h', type: 'link', linkname: '/etc/passwd' }]], msg: /hard link target "\/etc\/passwd" is an absolute path/u },
  {
    what: 'lower layer symlink lib -> / then lib/x',
    specs: [[{ name: `lib/tmp/${OUTSIDE}` }, 'evil']],
    msg: /path goes through the symlink "lib"/u,
    lower: (dest) => fs.symlinkSync('/', path.join(dest, 'lib')),
  },
];

describe('applyLayer refuses unsafe entries', () => {
  for (const c of UNSAFE) {
    test(c.what, async () => {
      const sandbox = tmpDir();
      const dest = path.join(sandbox, 'root', 'dest');
      fs.mkdirSync(dest, { recursive: true });
      c.lower?.(dest);
      const tar = await makeTar(c.specs);
      const check = (err: unknown): boolean => {
        assert.ok(isSlipwayError(err, 'INVALID_ARCHIVE'), String(err));
        assert.match(err.message, /^layer tar: entry "/u);
        assert.match(err.message, c.msg);
        return true;
      };
      await assert.rejects(applyLayer({ input: chunked(tar), dest }), check);
      if (c.lower) await scanTar(chunked(tar)); // scanTar cannot see lower layers
      else await assert.rejects(scanTar(chunked(tar)), check);
      assert.deepEqual(fs.readdirSync(path.join(sandbox, 'root')), ['dest']);
      assert.equal(fs.existsSync(`/tmp/${OUTSIDE}`), false);
      assert.equal(fs.existsSync(path.join(sandbox, OUTSIDE)), false);
    });
  }

  test('a symlink already at the path is replaced, never written through', async () => {
    const sandbox = tmpDir();
    const dest = path.join(sandbox, 'dest');
    fs.mkdirSync(dest);
    const victim = path.join(sandbox, 'victim');
    fs.writeFileSync(victim, 'original');
    fs.symlinkSync(victim, path.join(dest, 'f'));
    await applyLayer({ input: chunked(await makeTar([[{ name: 'f', mode: 0o600 }, 'new']])), dest });
    assert.equal(fs.readFileSync(victim, 'utf8'), 'original');
    assert.equal(fs.lstatSync(path.join(dest, 'f')).isFile(), true);
    assert.equal(fs.readFileSync(path.join(dest, 'f'), 'utf8'), 'new');
  });
});

describe('applyLayer extracts', () => {
  test('a GNU tar archive: contents, modes, owners, mtimes, links, fifos, devices', async () => {
    const src = tmpDir();
    fs.mkdirSync(path.join(src, 'd/sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'd/sub/f'), 'file body');
    fs.chmodSync(path.join(src, 'd/sub/f'), 0o4750);
    fs.linkSync(path.join(src, 'd/sub/f'), path.join(src, 'd/hard'));
    fs.symlinkSync('sub/f', path.join(src, 'd/sym'));
    fs.mkdirSync(path.join(src, 'sticky'), { mode: 0o755 });
    fs.chmodSync(path.join(src, 'sticky'), 0o1777);
    sh('mkfifo', ['-m', '0640', path.join(src, 'fifo')]);
    if (isRoot) sh('mknod', ['-m', '0666', path.join(src, 'null'), 'c', '1', '3']);
    sh('find', [src, '-exec', 'touch', '-h', '-d', '@1500000000', '{}', '+']);
    const tar = sh('tar', ['--format=posix', '--owner=1234', '--group=5678', '--numeric-owner', '-C', src, '-cf', '-', '.']);
    const dest = tmpDir();
    const res = await applyLayer({ input: chunked(tar, 4096), dest });
    assert.deepEqual(res.warnings, []);
    assert.equal(res.tarBytes, tar.length);
    const st = (p: string): fs.Stats => fs.lstatSync(path.join(dest, p));
    assert.equal(fs.readFileSync(path.join(dest, 'd/sub/f'), 'utf8'), 'file body');
    assert.equal(st('d/sub/f').mode & 0o7777, 0o4750);
    assert.equal(st('d/hard').ino, st('d/sub/f').ino);
    assert.equal(fs.readlinkSync(path.join(dest, 'd/sym')), 'sub/f');
    assert.equal(st('sticky').mode & 0o7777, 0o1777);
    assert.ok(st('fifo').isFIFO());
    assert.equal(st('fifo').mode & 0o777, 0o640);
    for (const p of ['d', 'd/sub', 'd/sub/f', 'd/sym', 'sticky', 'fifo']) {
      assert.equal(Math.floor(st(p).mtimeMs / 1000), 1500000000, p);
      if (isRoot) assert.deepEqual([st(p).uid, st(p).gid], [1234, 5678], p);
    }
    if (isRoot) {
      assert.ok(st('null').isCharacterDevice());
      assert.equal(st('null').rdev, fs.statSync('/dev/null').rdev);
    }
  });

  test('devices are skipped with a warning or refused when asked', async () => {
    const tar = await makeTar([[{ name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 }]]);
    const dest = tmpDir();
    const res = await applyLayer({ input: chunked(tar), dest, devices: 'skip' });
    assert.deepEqual(res.warnings, ['skipped device node "dev/null"']);
    assert.equal(fs.existsSync(path.join(dest, 'dev/null')), false);
    await assert.rejects(applyLayer({ input: chunked(tar), dest: tmpDir(), devices: 'error' }), (e: unknown) => isSlipwayError(e, 'UNSUPPORTED'));
  });

  test('whiteouts and opaque directories (OCI layer semantics)', async () => {
    const dest = tmpDir();
    for (const d of ['a', 'b/old', 'c/deep', 'o']) fs.mkdirSync(path.join(dest, d), { recursive: true });
    for (const f of ['a/keep', 'a/gone', 'b/x', 'b/old/y', 'c/deep/z', 'o/lower']) fs.writeFileSync(path.join(dest, f), f);
    const tar = await makeTar([
      [{ name: '.wh.c' }],
      [{ name: 'a/.wh.gone' }],
      [{ name: 'a/.wh..wh.plnk', type: 'directory' }],
      [{ name: 'b/', type: 'directory' }],
      [{ name: 'b/.wh..wh..opq' }],
      [{ name: 'b/new' }, 'new'],
      [{ name: 'o/', type: 'directory' }],
      [{ name: 'o/-early' }, 'early'],
      [{ name: 'o/.wh..wh..opq' }],
      [{ name: '.wh.missing' }],
    ]);
    await applyLayer({ input: chunked(tar), dest });
    const ls = (d: string): string[] => fs.readdirSync(path.join(dest, d)).sort();
    assert.deepEqual(ls('.'), ['a', 'b', 'o']);
    assert.deepEqual(ls('a'), ['keep']);
    assert.deepEqual(ls('b'), ['new']);
    assert.deepEqual(ls('o'), ['-early']);

    const literal = tmpDir();
    await applyLayer({ input: chunked(tar), dest: literal, whiteouts: false });
    assert.ok(fs.existsSync(path.join(literal, '.wh.c')));
    assert.ok(fs.existsSync(path.join(literal, 'b/.wh..wh..opq')));
  });

  test('a directory replaces a file and a file replaces a directory', async () => {
    const dest = tmpDir();
    fs.writeFileSync(path.join(dest, 'was-file'), 'x');
    fs.mkdirSync(path.join(dest, 'was-dir/sub'), { recursive: true });
    await applyLayer({ input: chunked(await makeTar([[{ name: 'was-file/', type: 'directory' }], [{ name: 'was-file/in' }, 'in'], [{ name: 'was-dir' }, 'now a file']])), dest });
    assert.equal(fs.readFileSync(path.join(dest, 'was-file/in'), 'utf8'), 'in');
    assert.equal(fs.readFileSync(path.join(dest, 'was-dir'), 'utf8'), 'now a file');
  });

  test('corrupt input fails with INVALID_ARCHIVE', async () => {
    const tar = await makeTar([[{ name: 'f' }, 'x'.repeat(2000)]]);
    await assert.rejects(applyLayer({ input: chunked(tar.subarray(0, 1200)), dest: tmpDir() }), /entry "f": unexpected end of archive inside the body/u);
  });
});

describe('scanTar', () => {
  test('counts entries and bytes and hashes the stream', async () => {
    const tar = await makeTar([[{ name: 'd/', type: 'directory' }], [{ name: 'd/f' }, 'hello'], [{ name: 'd/l', type: 'symlink', linkname: '/etc/passwd' }], [{ name: '.wh.x' }]]);
    const r = await scanTar(chunked(tar, 100), { digest: true });
    const expected = `sha256:${sh('sha256sum', [], { input: tar }).toString().split(' ')[0]}`;
    assert.deepEqual(r, { entries: 4, tarBytes: tar.length, contentBytes: 5, digest: expected });
  });
});

describe('applyLayer with decompress', () => {
  test('a gzip layer with a corrupt tail fails instead of applying a truncated tree', async () => {
    const tar = await makeTar([[{ name: 'f' }, 'x'.repeat(100000)]]);
    const gz = zlib.gzipSync(tar);
    const bad = Buffer.from(gz);
    bad.writeUInt32LE((gz.readUInt32LE(gz.length - 8) ^ 1) >>> 0, gz.length - 8); // CRC32 trailer
    await applyLayer({ input: await decompress(chunked(gz)), dest: tmpDir() });
    await assert.rejects(applyLayer({ input: await decompress(chunked(bad)), dest: tmpDir() }), (e: unknown) => isSlipwayError(e, 'INVALID_ARCHIVE') && /gzip/u.test(e.message));
  });
});

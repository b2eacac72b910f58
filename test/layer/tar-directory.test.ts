import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tarDirectory } from '../../src/layer/tar-directory.js';
import { applyLayer } from '../../src/layer/apply.js';
import { chunked, collect, readAll, sh, tmpDir, trySetXattr, tryGetXattr, have } from './helpers.js';

function makeSource(): string {
  const src = tmpDir();
  fs.mkdirSync(path.join(src, 'b/inner'), { recursive: true });
  fs.mkdirSync(path.join(src, 'a'));
  fs.writeFileSync(path.join(src, 'a/one'), 'one');
  fs.writeFileSync(path.join(src, 'a.txt'), 'a.txt');
  fs.writeFileSync(path.join(src, 'b/inner/big'), Buffer.alloc(3 << 20, 9));
  fs.linkSync(path.join(src, 'a/one'), path.join(src, 'b/hard'));
  fs.symlinkSync('../a/one', path.join(src, 'b/sym'));
  fs.writeFileSync(path.join(src, 'exec'), '#!/bin/sh\n', { mode: 0o755 });
  fs.chmodSync(path.join(src, 'exec'), 0o2755);
  sh('mkfifo', [path.join(src, 'fifo')]);
  fs.chownSync(path.join(src, 'a/one'), 4242, 4343);
  sh('find', [src, '-exec', 'touch', '-h', '-d', '@1700000000', '{}', '+']);
  return src;
}

describe('tarDirectory', () => {
  test('Docker-style names and order, hard links by inode, symlinks as links', async () => {
    const src = makeSource();
    const entries = await readAll(await collect(tarDirectory({ dir: src })));
    assert.deepEqual(entries.map((e) => e.header.name), [
      'a/', 'a/one', 'a.txt', 'b/', 'b/hard', 'b/inner/', 'b/inner/big', 'b/sym', 'exec', 'fifo',
    ]);
    const by = new Map(entries.map((e) => [e.header.name, e]));
    assert.equal(by.get('b/hard')?.header.type, 'link');
    assert.equal(by.get('b/hard')?.header.linkname, 'a/one');
    assert.equal(by.get('b/sym')?.header.linkname, '../a/one');
    assert.equal(by.get('exec')?.header.mode, 0o2755);
    assert.equal(by.get('fifo')?.header.type, 'fifo');
    assert.equal(by.get('b/inner/big')?.body.length, 3 << 20);
    assert.deepEqual([by.get('a/one')?.header.uid, by.get('a/one')?.header.gid, by.get('a/one')?.header.uname], [4242, 4343, '']);
    for (const e of entries) assert.equal(e.header.mtime, 1700000000, e.header.name);
  });

  test('GNU tar extracts the same tree; applyLayer round-trips it', async () => {
    const src = makeSource();
    const tar = await collect(tarDirectory({ dir: src }));
    const viaGnu = tmpDir();
    sh('tar', ['-xf', '-', '-C', viaGnu], { input: tar });
    const viaUs = tmpDir();
    await applyLayer({ input: chunked(tar), dest: viaUs });
    const listing = (d: string): string => sh('sh', ['-c', 'cd "$1" && find . -printf "%p %y %m %U %G %s %T@ %l\\n" | sort', 'x', d]).toString();
    const expected = listing(src).split('\n').filter((l) => !l.startsWith('. ')).join('\n');
    assert.equal(listing(viaGnu).split('\n').filter((l) => !l.startsWith('. ')).join('\n'), expected);
    assert.equal(listing(viaUs).split('\n').filter((l) => !l.startsWith('. ')).join('\n'), expected);
  });

  test('clampMtime caps later mtimes; includeRoot adds "./"; filter and mapHeader apply', async () => {
    const src = makeSource();
    sh('touch', ['-d', '@1000', path.join(src, 'a.txt')]);
    const entries = await readAll(await collect(tarDirectory({
      dir: src, clampMtime: 1600000000, includeRoot: true,
      filter: (rel) => !rel.startsWith('b'),
      mapHeader: (h) => (h.name === 'fifo' ? null : { ...h, uid: 0, gid: 0 }),
    })));
    assert.deepEqual(entries.map((e) => e.header.name), ['./', 'a/', 'a/one', 'a.txt', 'exec']);
    assert.deepEqual(entries.map((e) => e.header.mtime), [1600000000, 1600000000, 1600000000, 1000, 1600000000]);
    assert.ok(entries.every((e) => e.header.uid === 0));
  });

  test('xattrs are recorded when asked', { skip: have('getfattr') ? false : 'getfattr (attr package) missing' }, async (t) => {
    const src = tmpDir();
    fs.writeFileSync(path.join(src, 'f'), 'x');
    if (!trySetXattr(path.join(src, 'f'), 'user.k', 'v')) {
      t.skip('cannot set xattrs');
      return;
    }
    const tar = await collect(tarDirectory({ dir: src, xattrs: true }));
    const [e] = await readAll(tar);
    assert.equal(e?.header.xattrs['user.k']?.toString(), 'v');
    const dest = tmpDir();
    const res = await applyLayer({ input: chunked(tar), dest });
    if (have('setfattr')) assert.equal(tryGetXattr(path.join(dest, 'f'), 'user.k'), 'v');
    else assert.match(res.warnings.join(), /setfattr/u);
  });

  test('a missing directory ends the stream with an error', async () => {
    await assert.rejects(collect(tarDirectory({ dir: path.join(tmpDir(), 'nope') })), /ENOENT|no such/u);
  });
});

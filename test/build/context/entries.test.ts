import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { checksumSources, contextFromTar, copyEntries, openContext, resolveSources, StatCache } from '../../../src/build/context/index.js';
import type { CopyPlan } from '../../../src/build/context/index.js';
import { createTarWriter, readTar } from '../../../src/layer/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeTree, settle } from './helpers.js';

async function planOf(dir: string, sources: string[], dest: string): Promise<CopyPlan> {
  return resolveSources(openContext({ dir }), { sources, dest });
}

describe('copyEntries', () => {
  test('modes and mtimes kept, root owner, created parents 0755, hard links, empty dirs', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { 'src/run.sh': { data: '#!/bin/sh\n', mode: 0o4755 }, 'src/empty': { dir: true, mode: 0o700 }, 'src/l': { link: 'run.sh' } });
    fs.linkSync(path.join(dir, 'src/run.sh'), path.join(dir, 'src/hard'));
    fs.utimesSync(path.join(dir, 'src/run.sh'), 1_600_000_000, 1_600_000_000.75);
    fs.utimesSync(path.join(dir, 'src/empty'), 1_500_000_000, 1_500_000_000);
    const plan = await planOf(dir, ['src'], '/opt/app');
    const got = [];
    for await (const { header: h, body } of copyEntries(plan, { now: 1_700_000_000 })) {
      got.push([h.name, h.type, (h.mode ?? 0).toString(8), h.uid, h.gid, h.mtime, h.linkname ?? '', h.size ?? 0, body !== undefined]);
    }
    assert.deepEqual(got, [
      ['opt/', 'directory', '755', 0, 0, 1_700_000_000, '', 0, false],
      ['opt/app/', 'directory', '755', 0, 0, 1_700_000_000, '', 0, false],
      ['opt/app/empty/', 'directory', '700', 0, 0, 1_500_000_000, '', 0, false],
      ['opt/app/hard', 'file', '4755', 0, 0, 1_600_000_000, '', 10, true],
      ['opt/app/l', 'symlink', '777', 0, 0, got[4]?.[5], 'run.sh', 0, false],
      ['opt/app/run.sh', 'link', '4755', 0, 0, 1_600_000_000, 'opt/app/hard', 0, false],
    ]);
  });

  test('--chown, --chmod, SOURCE_DATE_EPOCH clamp, existing image directories', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { 'f': 'x' });
    const plan = resolveSources(openContext({ dir }), { sources: ['f'], dest: '/usr/local/bin/', destKind: (p) => (['/usr', '/usr/local'].includes(p) ? 'dir' : undefined) });
    const got = [];
    const existingDir = (): { mode: number; uid: number; gid: number; mtime: number } => ({ mode: 0o755, uid: 0, gid: 0, mtime: 1000 });
    for await (const { header: h } of copyEntries(plan, { chown: { uid: 1000, gid: 50 }, chmod: 0o640, clampMtime: 5000, now: 9000, existingDir })) {
      got.push([h.name, (h.mode ?? 0).toString(8), h.uid, h.gid, h.mtime]);
    }
    assert.deepEqual(got, [
      ['usr/', '755', 0, 0, 1000],
      ['usr/local/', '755', 0, 0, 5000],
      ['usr/local/bin/', '755', 1000, 50, 5000],
      ['usr/local/bin/f', '640', 1000, 50, Math.min(5000, Math.floor(fs.statSync(path.join(dir, 'f')).mtimeMs / 1000))],
    ]);
  });

  test('entries written with createTarWriter read back as GNU tar sees them', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { 'a/b.txt': 'hello', 'a/c/d.txt': 'world' });
    const plan = await planOf(dir, ['a'], '/x/');
    const tw = createTarWriter();
    const out = path.join(dir, '..', `${path.basename(dir)}.tar`);
    t.after(() => fs.rmSync(out, { force: true }));
    const done = pipeline(tw, fs.createWriteStream(out));
    for await (const { header, body } of copyEntries(plan)) await tw.addEntry(header, body?.());
    await tw.finish();
    await done;
    const listing = execFileSync('tar', ['tf', out]).toString().trim().split('\n');
    assert.deepEqual(listing, ['x/', 'x/b.txt', 'x/c/', 'x/c/d.txt']);
    const names = [];
    for await (const e of readTar(fs.createReadStream(out))) { names.push(e.header.name); for await (const chunk of e) void chunk; }
    assert.deepEqual(names, listing);
  });
});

describe('checksumSources', () => {
  test('stable across mtime changes, different on content or mode changes', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { 'a/one': '1', 'a/two': '2', 'a/l': { link: 'one' } });
    const sum = async (): Promise<string> => (await checksumSources(await planOf(dir, ['a'], '/d/'))).digest;
    const base = await sum();
    assert.match(base, /^sha256:[0-9a-f]{64}$/);
    fs.utimesSync(path.join(dir, 'a/one'), 1, 1);
    assert.equal(await sum(), base);
    fs.writeFileSync(path.join(dir, 'a/one'), '3');
    const changed = await sum();
    assert.notEqual(changed, base);
    fs.chmodSync(path.join(dir, 'a/one'), 0o600);
    assert.notEqual(await sum(), changed);
    const other = (await checksumSources(await planOf(dir, ['a'], '/elsewhere/'))).digest;
    assert.notEqual(other, await sum());
  });

  test('only the plan is read; the stat cache re-reads nothing the second time', async (t) => {
    const dir = await tempDir(t);
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`s/f${i}`] = `content ${i}`.repeat(100);
    files['big/huge'] = 'x'.repeat(3 << 20);
    makeTree(dir, files);
    await settle();
    const cacheFile = path.join(dir, '..', `${path.basename(dir)}.cache.json`);
    t.after(() => fs.rmSync(cacheFile, { force: true }));
    const plan = await planOf(dir, ['s', 'big'], '/d/');
    const first = await checksumSources(plan, { cacheFile });
    assert.equal(first.files, 51);
    assert.equal(first.bytesHashed, Object.values(files).reduce((n, c) => n + Buffer.byteLength(c), 0));
    assert.equal(first.cacheHits, 0);
    const second = await checksumSources(await planOf(dir, ['s', 'big'], '/d/'), { cacheFile });
    assert.equal(second.bytesHashed, 0);
    assert.equal(second.cacheHits, 51);
    assert.equal(second.digest, first.digest);
    const onlyS = await checksumSources(await planOf(dir, ['s/f1'], '/d/'), { cache: StatCache.memory() });
    assert.equal(onlyS.bytesHashed, 'content 1'.length * 100);
    fs.appendFileSync(path.join(dir, 's/f7'), '!');
    const third = await checksumSources(await planOf(dir, ['s', 'big'], '/d/'), { cacheFile });
    assert.equal(third.bytesHashed, 'content 7'.length * 100 + 1);
    assert.notEqual(third.digest, first.digest);
  });

  test('an unreadable file is a clear error', { skip: process.getuid?.() === 0 ? 'root reads everything' : false }, async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { 'x': { data: 'secret', mode: 0o000 } });
    await assert.rejects(checksumSources(await planOf(dir, ['x'], '/')), /cannot read "x" in the build context: permission denied/);
  });

  test('a file that vanishes after planning is a clear error', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { 'x': 'data' });
    const plan = await planOf(dir, ['x'], '/');
    fs.rmSync(path.join(dir, 'x'));
    await assert.rejects(checksumSources(plan), /"x" disappeared from the build context/);
  });
});

describe('contextFromTar', () => {
  test('a gzip tar on a stream becomes a context directory', async (t) => {
    const src = await tempDir(t);
    makeTree(src, { 'Dockerfile': 'FROM scratch\n', 'app/.wh.keep': 'not a whiteout', 'app/main.js': 'x' });
    const tmp = await tempDir(t);
    const tarFile = path.join(tmp, 'ctx.tar.gz');
    execFileSync('tar', ['czf', tarFile, '-C', src, '.']);
    const out = path.join(tmp, 'ctx');
    const r = await contextFromTar({ input: fs.createReadStream(tarFile), tmpDir: out });
    assert.equal(r.dir, out);
    assert.equal(fs.readFileSync(path.join(out, 'app/.wh.keep'), 'utf8'), 'not a whiteout');
    const plan = resolveSources(openContext({ dir: out }), { sources: ['app'], dest: '/a/' });
    assert.deepEqual(plan.entries.map((e) => e.dest), ['/a/.wh.keep', '/a/main.js']);
  });
  test('a corrupt tar is a BUILD error and leaves nothing behind', async (t) => {
    const tmp = await tempDir(t);
    const out = path.join(tmp, 'ctx');
    const { Readable } = await import('node:stream');
    await assert.rejects(contextFromTar({ input: Readable.from([Buffer.alloc(700, 7)]), tmpDir: out }), /unable to prepare context/);
    assert.equal(fs.existsSync(out), false);
  });
});

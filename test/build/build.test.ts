/**
 * `slipway build` as a user sees it: the cache (CACHED steps, identical
 * image IDs, invalidation by content and build args, --no-cache, builder
 * prune, system df), reproducible builds with SOURCE_DATE_EPOCH, the output
 * options (-q, --iidfile, several -t), Dockerfile and context on stdin, and
 * bad input that fails clearly without moving any tag.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, slipway, suiteStore, type Store } from '../helpers/cli.js';
import { contextMaker, readImage, tarListing } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'slipway-build-'));

/** A fresh context directory with the given files. */
const context = contextMaker(work);

/** The step names of plain progress output that say CACHED. */
function cachedSteps(stderr: string): string[] {
  const names = new Map<string, string>();
  const cached: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^#(\d+) (\[.*)$/.exec(line);
    if (m) names.set(m[1] as string, m[2] as string);
    const c = /^#(\d+) CACHED$/.exec(line);
    if (c) cached.push(names.get(c[1] as string) ?? '?');
  }
  return cached;
}

async function build(store: Store, args: string[], stdin?: Buffer | string) {
  const r = await store.run(['build', '--progress', 'plain', ...args], stdin);
  return { ...r, cached: cachedSteps(r.stderr) };
}

const DOCKERFILE = 'FROM slipway-test/busybox:latest\nARG V=1\nCOPY a.txt /a/\nCOPY b.txt /b-${V}/\nLABEL v=$V\n';
// BuildKit names a step by its line with the variables expanded.
const STEPS = ['[2/3] COPY a.txt /a/', '[3/3] COPY b.txt /b-1/'];

async function idOf(store: Store, ref: string): Promise<string> {
  return (await store.ok(['image', 'inspect', '-f', '{{.Id}}', ref])).trim();
}

describe('slipway build: the cache', () => {
  const store = suiteStore();
  const ctx = context({ Dockerfile: DOCKERFILE, 'a.txt': 'a\n', 'b.txt': 'b\n' });
  let first = '';
  before(async () => {
    await store.ok(['load', '-q', '-i', fixture('docker-save-busybox.tar')]);
    const r = await build(store, ['-t', 'app:1', ctx]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.cached, []);
    first = await idOf(store, 'app:1');
  });

  test('a second identical build says CACHED for every step and gives the same image ID', async () => {
    const r = await build(store, ['-t', 'app:2', ctx]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.cached, STEPS);
    assert.equal(await idOf(store, 'app:2'), first);
  });

  test('keys come from content, not mtimes: a touched file keeps the cache', async () => {
    utimesSync(join(ctx, 'a.txt'), new Date('2001-01-01'), new Date('2001-01-01'));
    const r = await build(store, ['-t', 'app:touched', ctx]);
    assert.deepEqual(r.cached, STEPS);
    assert.equal(await idOf(store, 'app:touched'), first);
  });

  test('editing one file rebuilds the first step that reads it and those after', async () => {
    const edited = context({ Dockerfile: DOCKERFILE, 'a.txt': 'a\n', 'b.txt': 'B!\n' });
    const r = await build(store, ['-t', 'app:edited', edited]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.cached, [STEPS[0]]);
    assert.notEqual(await idOf(store, 'app:edited'), first);
    const again = await build(store, ['-t', 'app:edited', context({ Dockerfile: DOCKERFILE, 'a.txt': 'A!\n', 'b.txt': 'B!\n' })]);
    assert.deepEqual(again.cached, [], 'editing the file of the first COPY rebuilds both');
  });

  test('a build arg used in a COPY destination and a LABEL invalidates from that step', async () => {
    const r = await build(store, ['-t', 'app:v2', '--build-arg', 'V=2', ctx]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.cached, [STEPS[0]]);
    const img = readImage(store.root, 'docker.io/library/app:v2');
    assert.deepEqual((img.config.config.Labels as Record<string, string>).v, '2');
    const listing = execFileSync('tar', ['-tf', img.layerFiles[img.layerFiles.length - 1] as string], { encoding: 'utf8' });
    assert.equal(listing, 'b-2/\nb-2/b.txt\n');
  });

  test('--no-cache rebuilds every step (the same files)', async () => {
    const r = await build(store, ['--no-cache', '-t', 'app:nocache', ctx]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.cached, []);
    const list = (ref: string) => readImage(store.root, ref).layerFiles.map((f) => execFileSync('tar', ['-tf', f], { encoding: 'utf8' }));
    assert.deepEqual(list('docker.io/library/app:nocache'), list('docker.io/library/app:1'));
  });

  test('system df counts the build cache; builder prune -a -f empties it', async () => {
    const df = await store.ok(['system', 'df']);
    const row = /^Build Cache\s+(\d+)/m.exec(df);
    assert.ok(row && Number(row[1]) >= 3, df);
    await store.ok(['builder', 'prune', '-a', '-f']);
    assert.match(await store.ok(['system', 'df']), /^Build Cache\s+0\s/m);
    const r = await build(store, ['-t', 'app:after-prune', ctx]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.cached, []);
  });
});

describe('slipway build: reproducible with SOURCE_DATE_EPOCH', () => {
  const a = suiteStore();
  const b = suiteStore();
  const ctx = context({ Dockerfile: 'FROM slipway-test/busybox:latest\nWORKDIR /w\nCOPY . /src/\nENV X=1\n', 'f.txt': 'f\n', 'd/g.txt': 'g\n' });
  before(async () => {
    for (const s of [a, b]) await s.ok(['load', '-q', '-i', fixture('docker-save-busybox.tar')]);
  });

  for (const how of ['env', 'build-arg'] as const) {
    test(`two stores, same inputs, ${how}: byte-identical image IDs and layer digests`, async () => {
      const ids: string[] = [];
      const layers: string[][] = [];
      for (const s of [a, b]) {
        if (s === b) await new Promise((r) => setTimeout(r, 1100)); // another second: wall-clock times would differ
        const args = ['build', '-q', '-t', `repro:${how}`, ...(how === 'build-arg' ? ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'] : []), ctx];
        const r = await slipway(args, { root: s.root, ...(how === 'env' ? { env: { SOURCE_DATE_EPOCH: '1700000000' } } : {}) });
        assert.equal(r.status, 0, r.stderr);
        ids.push(r.stdout.trim());
        const img = readImage(s.root, `docker.io/library/repro:${how}`);
        layers.push(img.layerDigests);
        assert.equal(img.config.created, '2023-11-14T22:13:20Z');
      }
      assert.equal(ids[0], ids[1]);
      assert.deepEqual(layers[0], layers[1]);
    });
  }
});

describe('slipway build: output and inputs', () => {
  const store = suiteStore();
  const ctx = context({ Dockerfile: 'FROM scratch\nCOPY a.txt /\n', 'a.txt': 'a\n', 'other.Dockerfile': 'FROM scratch\nCOPY a.txt /other\n' });
  before(async () => {
    await store.ok(['load', '-q', '-i', fixture('docker-save-busybox.tar')]);
  });

  test('-q prints only the image ID; --iidfile writes it; every -t names the image', async () => {
    const iid = join(work, 'iid');
    const r = await store.run(['build', '-q', '--iidfile', iid, '-t', 'out:1', '-t', 'out:2', '-t', 'other/out', ctx]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(r.stderr, '');
    const id = r.stdout.trim();
    assert.equal(readFileSync(iid, 'utf8'), id);
    for (const t of ['out:1', 'out:2', 'other/out:latest']) assert.equal(await idOf(store, t), id);
  });

  test('-f - reads the Dockerfile from stdin, with the directory as context', async () => {
    const r = await store.run(['build', '-q', '-t', 'stdin-df', '-f', '-', ctx], 'FROM scratch\nCOPY a.txt /from-stdin\n');
    assert.equal(r.status, 0, r.stderr);
    const img = readImage(store.root, 'docker.io/library/stdin-df:latest');
    assert.equal(execFileSync('tar', ['-tf', img.layerFiles[0] as string], { encoding: 'utf8' }), 'from-stdin\n');
  });

  test('-f names another Dockerfile in the context', async () => {
    const r = await store.run(['build', '-q', '-t', 'other-df', '-f', join(ctx, 'other.Dockerfile'), ctx]);
    assert.equal(r.status, 0, r.stderr);
    const img = readImage(store.root, 'docker.io/library/other-df:latest');
    assert.equal(execFileSync('tar', ['-tf', img.layerFiles[0] as string], { encoding: 'utf8' }), 'other\n');
  });

  test('a tar context on stdin (tar -C dir -c . | slipway build -t x -)', async () => {
    const tar = execFileSync('tar', ['-C', ctx, '-c', '.']);
    const r = await store.run(['build', '-q', '-t', 'tarctx', '-'], tar);
    assert.equal(r.status, 0, r.stderr);
    const img = readImage(store.root, 'docker.io/library/tarctx:latest');
    const [entry] = tarListing(img.layerFiles[0] as string);
    assert.match(entry ?? '', /^-rw-r--r-- 0\/0 +2 \S+ \S+ a\.txt$/);
    assert.equal(r.stdout.trim(), await idOf(store, 'tarctx'));
  });
});

describe('slipway build: bad input', () => {
  const store = suiteStore();
  const ctx = context({ 'a.txt': 'a\n', Dockerfile: 'FROM scratch\nCOPY a.txt /\n' });
  mkdirSync(join(ctx, 'loop'));
  symlinkSync('b', join(ctx, 'loop', 'a'));
  symlinkSync('a', join(ctx, 'loop', 'b'));
  let images = '';
  let goodId = '';
  before(async () => {
    await store.ok(['load', '-q', '-i', fixture('docker-save-busybox.tar')]);
    goodId = (await store.ok(['build', '-q', '-t', 'keep:1', ctx])).trim();
    images = await store.ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  });

  const cases: { name: string; dockerfile: string; args?: string[]; message: RegExp }[] = [
    { name: 'a syntax error names Dockerfile:line', dockerfile: 'FROM scratch\n\nFOO bar\n', message: /Dockerfile:3: unknown instruction: FOO/ },
    { name: 'a missing COPY source names it', dockerfile: 'FROM scratch\nCOPY a.txt nope.txt /d/\n', message: /Dockerfile:2: .*"\/nope\.txt": not found/ },
    { name: 'a source outside the context names it', dockerfile: 'FROM scratch\nCOPY ../outside.txt /\n', message: /Dockerfile:2: COPY \.\.\/outside\.txt \/: .*"\/outside\.txt": not found/ },
    { name: 'an unknown --target', dockerfile: 'FROM scratch AS one\nCOPY a.txt /\n', args: ['--target', 'two'], message: /target stage "two" could not be found/ },
    // A base image missing from the store is pulled; port 1 on loopback refuses (tests never leave the machine).
    { name: 'a missing base image is named', dockerfile: 'FROM scratch\nCOPY a.txt /\nFROM 127.0.0.1:1/nosuch/base:1.0\n', message: /Dockerfile:3: 127\.0\.0\.1:1\/nosuch\/base:1\.0: / },
    { name: 'a failing RUN names the step and the exit code', dockerfile: 'FROM slipway-test/busybox:latest\nCOPY a.txt /\nRUN exit 7\n', message: /Dockerfile:3: RUN exit 7: process "\/bin\/sh -c exit 7" did not complete successfully: exit code: 7/ },
    { name: 'a symlink loop in a copied directory', dockerfile: 'FROM scratch\nCOPY loop/a /x\n', message: /loop|too many levels|symbolic links/i },
  ];
  for (const c of cases) {
    test(`${c.name}; no tag is made or moved`, async () => {
      const r = await store.run(['build', '--progress', 'plain', '-t', 'keep:1', '-t', 'new:1', ...(c.args ?? []), '-f', '-', ctx], c.dockerfile);
      assert.notEqual(r.status, 0, r.stderr);
      assert.match(r.stderr, c.message);
      assert.match(r.stderr, /\n$/);
      assert.equal(await store.ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']), images);
      assert.equal(await idOf(store, 'keep:1'), goodId);
    });
  }
});

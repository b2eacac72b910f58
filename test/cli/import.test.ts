/**
 * `slipway import` of a rootfs tarball made with GNU tar, compared with the
 * image `docker import -c 'CMD ["/bin/sh"]' -m msg rootfs.tar ...` made
 * (inspect-imported.txt, history-imported.txt, import-*.txt).
 * Left out of the comparison, as engine- or run-specific: Id, Created,
 * RepoTags, DockerVersion (the engine's version), Size/VirtualSize and
 * RootFS.Layers (another rootfs), GraphDriver, Metadata.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asSlipway, normaliseTable, reference, storeListing, tempStore } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { tarOf } from '../archive/tar-of.js';

const MOTD = 'hello from an imported rootfs\n';

function makeRootfs(dir: string): string {
  mkdirSync(join(dir, 'rootfs', 'etc'), { recursive: true });
  mkdirSync(join(dir, 'rootfs', 'bin'));
  writeFileSync(join(dir, 'rootfs', 'etc', 'motd'), MOTD);
  const file = join(dir, 'rootfs.tar');
  execFileSync('tar', ['-C', join(dir, 'rootfs'), '-cf', file, '.']);
  return file;
}

describe('import', () => {
  test('a file with -c, -m and a tag: Docker\'s config, comment and history', async (t) => {
    const dir = await tempDir(t);
    const rootfs = makeRootfs(dir);
    const store = await tempStore(t);
    const res = await store.run(['import', '-c', 'CMD ["/bin/sh"]', '-c', 'ENV A=1', '-m', 'msg', rootfs, 'slipway-test/imported:1']);
    assert.match(res.stdout, /^sha256:[0-9a-f]{64}\n$/, 'prints the new ID as import-tagged.txt');
    assert.match(reference('import-tagged').stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(res.status, 0);
    const id = res.stdout.trim();
    const [doc] = JSON.parse(await store.ok(['image', 'inspect', 'slipway-test/imported:1'])) as Record<string, unknown>[];
    const [ref] = JSON.parse(reference('inspect-imported').stdout) as Record<string, unknown>[];
    assert.ok(doc && ref);
    assert.equal(doc.Id, id);
    assert.deepEqual(doc.RepoTags, ['slipway-test/imported:1']);
    assert.deepEqual(doc.RootFS, { Type: 'layers', Layers: [`sha256:${createHash('sha256').update(readFileSync(rootfs)).digest('hex')}`] });
    assert.equal(doc.Size, MOTD.length);
    const skip = new Set(['Id', 'Created', 'RepoTags', 'DockerVersion', 'Size', 'VirtualSize', 'RootFS', 'GraphDriver', 'Metadata']);
    const strip = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !skip.has(k)));
    const refConfig = { ...(ref.Config as object), Env: ['A=1'] }; // the reference had no ENV change
    assert.deepEqual(strip(doc), strip({ ...ref, Config: refConfig }));
    assert.deepEqual(Object.keys(doc), Object.keys(ref), 'fields in Docker\'s order');
    // history: one row, empty CREATED BY, the message as COMMENT (history-imported.txt)
    const hist = await store.ok(['history', 'slipway-test/imported:1']);
    const expected = reference('history-imported').stdout.replace(/584f1c5fd979/, id.slice(7, 19)).replace(/78B/, `${MOTD.length}B`);
    assert.equal(normaliseTable(hist), normaliseTable(expected));
  });

  test('stdin "-" makes an untagged image (import-stdin.txt)', async (t) => {
    const rootfs = makeRootfs(await tempDir(t));
    const store = await tempStore(t);
    const res = await store.run(['import', '-'], readFileSync(rootfs));
    assert.match(res.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(res.status, 0);
    assert.equal(await store.ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']), `<none>:<none> ${res.stdout.slice(7, 19)}\n`);
    const [doc] = JSON.parse(await store.ok(['inspect', res.stdout.trim()])) as { Comment: string; Config: { Cmd: unknown; Env: unknown } }[];
    assert.deepEqual([doc?.Comment, doc?.Config.Cmd, doc?.Config.Env], ['', null, null]);
  });

  test('a gzip-compressed rootfs imports as the same uncompressed layer', async (t) => {
    const dir = await tempDir(t);
    const rootfs = makeRootfs(dir);
    execFileSync('gzip', ['-k', rootfs]);
    const store = await tempStore(t);
    const id = (await store.ok(['import', `${rootfs}.gz`])).trim();
    const layers = await store.ok(['inspect', '-f', '{{.RootFS.Layers}}', id]);
    assert.equal(layers, `[sha256:${createHash('sha256').update(readFileSync(rootfs)).digest('hex')}]\n`);
  });

  test('errors: an invalid change command, a missing file (import-missing.txt), an unsafe rootfs; the store is unchanged', async (t) => {
    const dir = await tempDir(t);
    const rootfs = makeRootfs(dir);
    const store = await tempStore(t);
    await store.ok(['import', rootfs, 'slipway-test/base:1']);
    const listing = await storeListing(store.root);

    const bad = await store.run(['import', '-c', 'RUN echo hi', rootfs]);
    assert.equal(bad.stderr, 'Error: RUN is not a valid change command\n');
    assert.equal(bad.status, 1);

    const r = reference('import-missing');
    const missing = await store.run(['import', 'nosuch.tar']);
    assert.deepEqual([missing.stdout, missing.stderr, missing.status], [r.stdout, asSlipway(r.stderr), r.exit]);

    const evil = join(dir, 'evil.tar');
    writeFileSync(evil, tarOf([{ name: 'etc/', type: '5' }, { name: '../evil', body: 'x' }]));
    const unsafe = await store.run(['import', evil, 'slipway-test/evil:1']);
    assert.notEqual(unsafe.status, 0);
    assert.match(unsafe.stderr, /"\.\.\/evil": path escapes/);
    assert.equal(unsafe.stdout, '');

    assert.deepEqual(await storeListing(store.root), listing);
  });
});

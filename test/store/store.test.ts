import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ImageStore } from '../../src/store/image-store.js';
import { digestOf } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import type { ImageConfig, Manifest } from '../../src/oci/types.js';
import { isSlipwayError } from '../../src/errors.js';
import { storeRoot } from '../../src/store/root.js';
import { tempDir } from '../helpers/tmp.js';

async function addImage(store: ImageStore, layerText: string, names: string[]) {
  const layer = await store.blobs.write(Buffer.from(layerText));
  const config: ImageConfig = { architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: [layer.digest] } };
  const manifest: Manifest = {
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: digestOf(''), size: 0 },
    layers: [{ mediaType: MediaType.ociLayer, digest: layer.digest, size: layer.size }],
  };
  return store.commitImage({ manifest, config, names });
}

async function visibleBlobs(root: string): Promise<string[]> {
  return (await readdir(join(root, 'blobs', 'sha256')).catch(() => [])).sort();
}

test('a blob is verified against its expected digest and size, and a mismatch leaves nothing visible', async (t) => {
  const root = await tempDir(t);
  const store = new ImageStore(root);
  const ok = await store.blobs.write(Buffer.from('hello'), { expected: { digest: digestOf('hello'), size: 5 } });
  assert.equal(ok.digest, digestOf('hello'));
  assert.equal(await readFile(store.blobs.path(ok.digest), 'utf8'), 'hello');
  const before = await visibleBlobs(root);
  await assert.rejects(store.blobs.write(Buffer.from('hellx'), { expected: { digest: digestOf('hello') }, what: 'layer x' }),
    (e: unknown) => isSlipwayError(e, 'DIGEST_MISMATCH') && /layer x: digest sha256:\w+ does not match/.test((e as Error).message));
  await assert.rejects(store.blobs.write(Buffer.from('hel'), { expected: { size: 5 } }), /size 3 does not match the expected 5/);
  assert.deepEqual(await visibleBlobs(root), before);
  assert.deepEqual(await readdir(join(root, 'ingest')), []);
});

test('the store root is an OCI image layout that skopeo can read', async (t) => {
  const root = await tempDir(t);
  const store = new ImageStore(root);
  await addImage(store, 'layer-a', ['docker.io/library/app:1.0']);
  assert.equal(await readFile(join(root, 'oci-layout'), 'utf8'), '{"imageLayoutVersion":"1.0.0"}');
  const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8'));
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'docker.io/library/app:1.0');
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn('skopeo', ['inspect', '--raw', `oci:${root}:docker.io/library/app:1.0`]);
    let s = '';
    p.stdout.on('data', (d: Buffer) => (s += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(s) : reject(new Error(`skopeo exited ${code}`))));
  });
  assert.equal(JSON.parse(out).layers[0].size, 'layer-a'.length);
});

test('moving a tag leaves the old image dangling; gc keeps referenced blobs and deletes the rest', async (t) => {
  const root = await tempDir(t);
  const store = new ImageStore(root);
  const a = await addImage(store, 'layer-a', ['docker.io/library/app:latest']);
  const b = await addImage(store, 'layer-b', ['docker.io/library/app:latest']);
  assert.deepEqual(b.orphans, [a.id]);
  const recs = await store.list();
  assert.deepEqual(recs.map((r) => [r.id, r.names]), [[a.id, []], [b.id, ['docker.io/library/app:latest']]]);
  await store.edit((e) => e.removeImage(a.id));
  await store.blobs.write(Buffer.from('stray'));
  await store.close();
  const res = await store.gc();
  assert.equal(res.deleted.length, 4); // a's layer, config and manifest, and the stray blob
  assert.equal(res.reclaimedBytes > 0, true);
  const left = await visibleBlobs(root);
  assert.equal(left.length, 3);
  assert.deepEqual((await store.list()).map((r) => r.id), [b.id]);
});

test('gc keeps content a live process has leased but not yet committed', async (t) => {
  const root = await tempDir(t);
  const writer = new ImageStore(root);
  const staged = await writer.blobs.write(Buffer.from('in flight'));
  const other = new ImageStore(root);
  const res = await other.gc();
  assert.deepEqual(res.deleted, []);
  await writer.close();
  assert.deepEqual((await other.gc()).deleted, [staged.digest]);
});

test('a stale lock left by a dead process is broken; leftovers of dead processes are cleaned', async (t) => {
  const root = await tempDir(t);
  const store = new ImageStore(root);
  await addImage(store, 'x', ['docker.io/library/x:latest']);
  await writeFile(join(root, 'lock'), '999999999 deadbeef');
  await mkdir(join(root, 'ingest'), { recursive: true });
  await writeFile(join(root, 'ingest', '999999999-abc'), 'partial');
  await store.gc();
  assert.deepEqual(await readdir(join(root, 'ingest')), []);
  assert.equal((await store.list()).length, 1);
});

test('concurrent processes tagging and untagging one store lose no reference', async (t) => {
  const root = await tempDir(t);
  const store = new ImageStore(root);
  const base = await addImage(store, 'base', ['docker.io/library/base:latest']);
  const storeModule = new URL('../../src/store/image-store.js', import.meta.url).href;
  const script = `
    const { ImageStore } = await import(${JSON.stringify(storeModule)});
    const s = new ImageStore(process.argv[1]);
    const w = process.argv[2];
    for (let i = 0; i < 15; i++) {
      await s.tag(process.argv[3], 'docker.io/library/w' + w + ':' + i);
      if (i % 3 === 0) await s.edit((e) => { e.removeName('docker.io/library/w' + w + ':' + i); });
      if (i % 5 === 0) await s.gc();
    }`;
  const runs = [0, 1, 2, 3].map((w) => new Promise<number>((resolve) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', script, root, String(w), base.id], { stdio: 'inherit' });
    p.on('close', (code) => resolve(code ?? -1));
  }));
  assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0]);
  const names = (await store.list()).flatMap((r) => r.names).sort();
  const expected = ['docker.io/library/base:latest'];
  for (const w of [0, 1, 2, 3]) for (let i = 0; i < 15; i++) if (i % 3 !== 0) expected.push(`docker.io/library/w${w}:${i}`);
  assert.deepEqual(names, expected.sort());
  assert.equal((await visibleBlobs(root)).length, 3);
});

test('the default root follows --root, SLIPWAY_ROOT, then the user', () => {
  assert.equal(storeRoot({ flag: '/x/y', env: { SLIPWAY_ROOT: '/z' } }), '/x/y');
  assert.equal(storeRoot({ env: { SLIPWAY_ROOT: '/z' } }), '/z');
  assert.equal(storeRoot({ env: {}, uid: 0 }), '/var/lib/slipway');
  assert.equal(storeRoot({ env: { XDG_DATA_HOME: '/d', HOME: '/h' }, uid: 1000 }), '/d/slipway');
  assert.equal(storeRoot({ env: { HOME: '/h' }, uid: 1000 }), '/h/.local/share/slipway');
});

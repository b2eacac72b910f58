// Layers of 32 MiB and more take load's worker-thread hashing path: the same
// checks must hold there (diff IDs verified, a corrupt layer refused with the
// store untouched, from a file and from stdin).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { tempStore } from '../helpers/cli.js';
import { tarOf } from './tar-of.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A docker-archive holding one image whose single layer carries `size` random bytes. */
function archiveWith(size: number, corrupt: boolean): { tar: Buffer; diffId: string; configId: string } {
  const layer = tarOf([{ name: 'big.bin', body: randomBytes(size) }]);
  const diffId = sha(layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } }));
  const configId = sha(config);
  if (corrupt) layer.writeUInt8((layer.readUInt8(1512) ^ 0xff), 1512);
  const manifest = [{ Config: `${configId.slice(7)}.json`, RepoTags: ['big/image:1'], Layers: ['layer/layer.tar'] }];
  const tar = tarOf([
    { name: 'layer/', type: '5' }, { name: 'layer/layer.tar', body: layer },
    { name: `${configId.slice(7)}.json`, body: config }, { name: 'manifest.json', body: JSON.stringify(manifest) },
  ]);
  return { tar, diffId, configId };
}

test('a 40 MiB layer loads from a file and from stdin with its diff ID verified', async (t) => {
  const dir = await tempDir(t);
  const { tar, diffId, configId } = archiveWith(40 << 20, false);
  const file = join(dir, 'big.tar');
  await writeFile(file, tar);
  for (const how of ['file', 'stdin'] as const) {
    const store = await tempStore(t);
    const out = how === 'file' ? await store.ok(['load', '-i', file]) : await store.ok(['load'], tar);
    assert.equal(out, 'Loaded image: big/image:1\n');
    assert.equal(await store.ok(['image', 'inspect', '-f', '{{.Id}} {{.RootFS.Layers}}', 'big/image:1']), `${configId} [${diffId}]\n`);
  }
});

test('a corrupt 40 MiB layer is refused and the store stays empty', async (t) => {
  const dir = await tempDir(t);
  const { tar } = archiveWith(40 << 20, true);
  const file = join(dir, 'bad.tar');
  await writeFile(file, tar);
  const store = await tempStore(t);
  const r = await store.run(['load', '-i', file]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /layer\/layer\.tar/);
  assert.equal(await store.ok(['images', '-q']), '');
  const blobs = await readdir(join(store.root, 'blobs', 'sha256')).catch(() => []);
  assert.deepEqual(blobs, []);
});

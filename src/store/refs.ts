/**
 * The store's references: `index.json`, an OCI image index that other tools
 * (skopeo, umoci) read as an OCI image layout. Each entry names one image
 * manifest; a tagged entry carries its full reference in the
 * `org.opencontainers.image.ref.name` and `io.containerd.image.name`
 * annotations, a dangling image has one entry without a name.
 *
 * The file is replaced atomically (write, fsync, rename) under the store lock;
 * readers never lock and always see a whole old or whole new index. The file
 * operations are synchronous: small files, where a trip through the thread
 * pool per operation costs more than the operation.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SlipwayError, isErrno } from '../errors.js';
import { MediaType } from '../oci/media-types.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import { withLock } from './lock.js';
import { uniqueSuffix } from './unique.js';

/** Annotation keys slipway keeps on index entries. */
export const Annotation = {
  refName: 'org.opencontainers.image.ref.name',
  imageName: 'io.containerd.image.name',
  created: 'org.opencontainers.image.created',
  imageId: 'dev.slipway.image.id',
  size: 'dev.slipway.image.size',
  taggedAt: 'dev.slipway.tagged-at',
  repoDigests: 'dev.slipway.repo-digests',
  /** On a manifest's layer descriptor: the bytes the layer adds on disk (files plus symlink targets), Docker's layer size. */
  layerSize: 'dev.slipway.layer.size',
} as const;

/** Reads the index (an empty one when the store is new). */
export async function readRefs(root: string): Promise<ImageIndex> {
  let text: string;
  try {
    text = readFileSync(join(root, 'index.json'), 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return emptyIndex();
    throw new SlipwayError('IO', `cannot read ${join(root, 'index.json')}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const idx = JSON.parse(text) as ImageIndex;
    if (!Array.isArray(idx.manifests)) throw new Error('no manifests array');
    return idx;
  } catch (err) {
    throw new SlipwayError('IO', `the store index ${join(root, 'index.json')} is corrupt: ${(err as Error).message}`, { cause: err });
  }
}

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
}

/** Creates the layout marker files of a new store. */
export async function initLayout(root: string): Promise<void> {
  mkdirSync(join(root, 'blobs', 'sha256'), { recursive: true });
  try {
    writeFileSync(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}', { flag: 'wx' });
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
}

function writeRefs(root: string, index: ImageIndex): void {
  const path = join(root, 'index.json');
  const tmp = `${path}.${uniqueSuffix()}`;
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    const bytes = Buffer.from(JSON.stringify(index));
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * Runs `mutate` on the current index under the store lock and saves what it
 * returns. `mutate` may throw to abort; nothing is written then.
 */
export async function updateRefs<T>(root: string, mutate: (manifests: Descriptor[]) => Promise<T> | T): Promise<T> {
  await initLayout(root);
  return withLock(join(root, 'lock'), async () => {
    const index = await readRefs(root);
    const before = JSON.stringify(index.manifests);
    const result = await mutate(index.manifests);
    if (JSON.stringify(index.manifests) !== before) writeRefs(root, index);
    return result;
  });
}

/** Runs `fn` under the store lock without changing the index. */
export async function underStoreLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  await initLayout(root);
  return withLock(join(root, 'lock'), fn);
}

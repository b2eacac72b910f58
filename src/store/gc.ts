/**
 * Garbage collection: deletes blobs that nothing references. Roots are the
 * index entries (and what their manifests and indexes reach), blobs named in
 * leases of live processes (operations that have written content but not yet
 * committed a reference), and any extra roots the caller passes (build cache,
 * containers). Runs under the store lock, so no reference can be added while
 * it decides.
 */
import { readdir, readFile, unlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { isIndexType } from '../oci/media-types.js';
import type { Descriptor, ImageIndex, Manifest } from '../oci/types.js';
import type { BlobStore } from './blobs.js';
import { processAlive } from './lock.js';
import { cleanPartials, parsePartialName } from './partial.js';
import { readRefs, underStoreLock } from './refs.js';

/** What a collection removed. */
export interface GcResult {
  deleted: Digest[];
  reclaimedBytes: number;
}

/** Options of collectGarbage. */
export interface GcOptions {
  blobs: BlobStore;
  /** More digests to keep (cache records, container images); read under the lock. */
  extraRoots?: () => Promise<Iterable<Digest>>;
}

/** The set of digests reachable from `descriptors`, following manifests and indexes. */
export async function reachable(blobs: BlobStore, descriptors: Iterable<Descriptor>): Promise<Set<Digest>> {
  const seen = new Set<Digest>();
  const stack = [...descriptors];
  while (stack.length > 0) {
    const d = stack.pop() as Descriptor;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    if ((await blobs.size(d.digest)) === undefined) continue;
    if (isIndexType(d.mediaType)) {
      stack.push(...(await blobs.readJson<ImageIndex>(d.digest)).manifests);
    } else if (d.mediaType.endsWith('manifest.v1+json') || d.mediaType.endsWith('manifest.v2+json')) {
      const m = await blobs.readJson<Manifest>(d.digest);
      stack.push(m.config, ...m.layers);
    }
  }
  return seen;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/** Digests named by leases of live processes; leases of dead processes are removed. */
async function leasedDigests(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  const dir = join(root, 'leases');
  for (const name of await listDir(dir)) {
    const pid = Number(name.split('-')[0]);
    if (!processAlive(pid)) {
      await unlink(join(dir, name)).catch(() => undefined);
      continue;
    }
    const text = await readFile(join(dir, name), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line) out.add(line);
  }
  return out;
}

/**
 * Removes ingest files left by processes that no longer run, and partial
 * downloads (kept for a resume) that nobody has written for a day.
 */
async function cleanIngest(root: string): Promise<void> {
  const dir = join(root, 'ingest');
  for (const name of await listDir(dir)) {
    if (parsePartialName(name)) continue;
    if (!processAlive(Number(name.split('-')[0]))) await unlink(join(dir, name)).catch(() => undefined);
  }
  await cleanPartials(root);
}

/**
 * Removes the registry's layer records (`registry/layers/<diff hex>.json`,
 * the compressed forms pushed or pulled) of layers no longer in the store.
 */
async function pruneLayerRecords(blobs: BlobStore): Promise<void> {
  const dir = join(blobs.root, 'registry', 'layers');
  for (const name of await listDir(dir)) {
    const m = /^([a-f0-9]{64})\.json$/.exec(name);
    if (m && (await blobs.size(`sha256:${m[1]}`)) === undefined) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/** Deletes every unreferenced, unleased blob (and the layer records of deleted layers); returns what was deleted. */
export async function collectGarbage(options: GcOptions): Promise<GcResult> {
  const { blobs } = options;
  return underStoreLock(blobs.root, async () => {
    const index = await readRefs(blobs.root);
    const keep: Set<string> = await reachable(blobs, index.manifests);
    for (const d of await leasedDigests(blobs.root)) keep.add(d);
    for (const d of (await options.extraRoots?.()) ?? []) keep.add(d);
    await cleanIngest(blobs.root);
    const result: GcResult = { deleted: [], reclaimedBytes: 0 };
    for (const d of await blobs.list()) {
      if (keep.has(d) || !isDigest(d)) continue;
      const size = (await stat(blobs.path(d)).catch(() => undefined))?.size ?? 0;
      await unlink(blobs.path(d)).catch(() => undefined);
      result.deleted.push(d);
      result.reclaimedBytes += size;
    }
    await pruneLayerRecords(blobs);
    return result;
  });
}

/**
 * `load`: an image archive into the store, all or nothing. Files are staged
 * and verified (digests, sizes, diff IDs, tar safety) before any blob becomes
 * visible or any tag moves; a failure discards everything staged.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { SlipwayError } from '../errors.js';
import { decompress, detectCompression } from '../layer/index.js';
import { stageLayer, type StagedLayer } from '../image/stage-layer.js';
import { MediaType } from '../oci/media-types.js';
import type { Digest } from '../oci/digest.js';
import type { Manifest } from '../oci/types.js';
import type { CommitImageOptions, ImageStore } from '../store/image-store.js';
import { Annotation } from '../store/refs.js';
import type { StagedBlob } from '../store/blobs.js';
import { planImages, type ImagePlan } from './plan.js';
import { discardAll, readArchive, type ArchiveContents, type ArchiveFile } from './read-archive.js';
import { readIntoRing, type RingSource } from './ring-reader.js';
import { SlotRing } from './slot-ring.js';

/** Options of loadArchive. */
export interface LoadOptions {
  store: ImageStore;
  /** The archive as a stream (stdin); ignored when `file` is given. */
  input?: Readable;
  /**
   * The archive as an open file (FileHandle, read from offset 0) or a file
   * descriptor of a regular file (stdin redirected from a file, read from its
   * offset): read straight into shared memory, the fast path. The caller closes it.
   */
  file?: RingSource;
  /** Names the input in error messages (a file name, or 'stdin'). */
  source: string;
}

/** One loaded image. */
export interface LoadedImage {
  id: Digest;
  /** Full references it was tagged with. */
  names: string[];
  /** For each name that pointed at another image before: that image's ID. */
  replaced: Map<string, Digest>;
}

/** Loads every image of the archive; returns them in archive order. */
export async function loadArchive(options: LoadOptions): Promise<LoadedImage[]> {
  const { store, source } = options;
  const label = source;
  let contents: ArchiveContents;
  try {
    const ring = new SlotRing(RING_SLOT, RING_SLOTS);
    contents = await readArchive({ input: await openArchive(options, ring), blobs: store.blobs, label, ring });
  } catch (err) {
    // readArchive discarded what it staged; the lease it took must go too.
    await store.close();
    throw err;
  }
  const extra: StagedBlob[] = [];
  try {
    const plans = planImages(contents, label);
    if (plans.length === 0) throw new SlipwayError('INVALID_ARCHIVE', `${label}: the archive holds no image`);
    const layers = new Map<ArchiveFile, LayerBlob>();
    for (const plan of plans) await checkLayers(plan, store, layers, extra, label);
    for (const l of layers.values()) await store.blobs.commit(l.blob);
    const results = await store.commitImages(plans.map((plan) => commitOptions(plan, layers)));
    return results.map((res, i) => ({ id: res.id, names: (plans[i] as ImagePlan).names, replaced: res.replaced }));
  } finally {
    await discardAll(contents, store.blobs);
    for (const b of extra) await store.blobs.discard(b);
    await store.close();
  }
}

/** Ring memory for reading and hashing: 32 slots of 1 MiB (writes keep up to 8 MiB, the scan up to 11 slots). */
const RING_SLOT = 1 << 20;
const RING_SLOTS = 32;

/** The uncompressed archive: straight from the file into the ring when it is a plain tar, else through `decompress`. */
async function openArchive(options: LoadOptions, ring: SlotRing): Promise<Readable | AsyncIterable<Buffer>> {
  const { file } = options;
  if (file && 'read' in file) {
    const head = Buffer.alloc(512);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    if (detectCompression(head.subarray(0, bytesRead)) === 'none') return readIntoRing(file, ring);
    return decompress(file.createReadStream({ start: 0, highWaterMark: 1 << 20, autoClose: false }));
  }
  if (file) return sniffRing(readIntoRing(file, ring));
  if (!options.input) throw new SlipwayError('INTERNAL', 'loadArchive: no input');
  return decompress(options.input);
}

/** Ring chunks as they are when uncompressed; otherwise copies of them (the ring is reused) through `decompress`. */
async function sniffRing(chunks: AsyncGenerator<Buffer, void, undefined>): Promise<Readable | AsyncIterable<Buffer>> {
  const first = await chunks.next();
  async function* all(copy: boolean): AsyncGenerator<Buffer, void, undefined> {
    if (first.done) return;
    yield copy ? Buffer.from(first.value) : first.value;
    for await (const c of chunks) yield copy ? Buffer.from(c) : c;
  }
  if (first.done || detectCompression(first.value) === 'none') return all(false);
  return decompress(Readable.from(all(true), { objectMode: false }));
}

/** Verifies each layer's diff ID against the config, decompressing compressed layers. */
type LayerBlob = StagedLayer;

async function checkLayers(plan: ImagePlan, store: ImageStore, out: Map<ArchiveFile, LayerBlob>, extra: StagedBlob[], label: string): Promise<void> {
  const diffIds = plan.configDoc.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== plan.layers.length) {
    throw new SlipwayError('INVALID_ARCHIVE', `${label}: the config of ${plan.config.path} lists ${diffIds?.length ?? 0} layers, the manifest ${plan.layers.length}`);
  }
  for (const [i, file] of plan.layers.entries()) {
    let layer = out.get(file);
    if (!layer) {
      layer = file.scan ? { blob: file.blob, diskSize: file.scan.contentBytes } : await decompressLayer(file, store, label);
      if (layer.blob !== file.blob) extra.push(layer.blob);
      out.set(file, layer);
    }
    const blob = layer.blob;
    if (blob.digest !== diffIds[i]) {
      throw new SlipwayError('DIGEST_MISMATCH', `${label}: layer ${file.path} has diff ID ${blob.digest}, but the image config expects ${String(diffIds[i])}`);
    }
  }
}

/** A layer that is not a plain tar: decompress it (gzip, zstd ...) into a new staged blob, scanned. */
async function decompressLayer(file: ArchiveFile, store: ImageStore, label: string): Promise<LayerBlob> {
  const path = file.blob.tmpPath ?? store.blobs.path(file.blob.digest);
  const head = await firstBytes(path);
  if (head[0] === 0x7b || head.length === 0 || detectCompression(head) === 'none') throw file.tarProblem as SlipwayError;
  return stageLayer(store.blobs, createReadStream(path, { highWaterMark: 1 << 20 }), `${label}: layer ${file.path}`);
}

async function firstBytes(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    const { bytesRead } = await fh.read(buf, 0, 16, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The manifest, config and names of a planned image, for the store. */
function commitOptions(plan: ImagePlan, layers: Map<ArchiveFile, LayerBlob>): CommitImageOptions {
  const manifest: Manifest = {
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: plan.config.blob.digest, size: plan.config.blob.size },
    layers: plan.layers.map((f) => {
      const { blob, diskSize } = layers.get(f) as LayerBlob;
      return { mediaType: MediaType.ociLayer, digest: blob.digest, size: blob.size, annotations: { [Annotation.layerSize]: String(diskSize) } };
    }),
  };
  return { manifest, config: plan.config.bytes as Buffer, names: plan.names };
}


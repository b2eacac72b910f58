/**
 * Writing a layer a build step produces, in one pass: entries are encoded
 * as a tar (Go archive/tar PAX, as TarWriter writes them) straight into a
 * ring of large reused blocks; context files are read with synchronous
 * reads directly into the block (no stream, no per-chunk buffer) and, when
 * asked, hashed on the way (their content checksums for the cache key);
 * each full block is hashed into the layer digest (on a worker thread for
 * big layers) while earlier blocks are written behind by the blob store.
 * The blob is staged; the caller commits or discards it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { SlipwayError, isErrno } from '../errors.js';
import type { TarHeaderInput } from '../layer/index.js';
import { BLOCK } from '../layer/tar-format.js';
import { encodeHeader, normalizeHeader } from '../layer/tar-encode.js';
import type { HashWorkerPool } from '../archive/hash-worker.js';
import { SlotRing } from '../archive/slot-ring.js';
import type { Digest } from '../oci/digest.js';
import type { BlobStore, StagedBlob } from '../store/blobs.js';

/** A regular file of the build context copied into the layer by path (read straight into the tar). */
export interface LayerFile {
  /** Absolute path to read. */
  abs: string;
  /** Context-relative path, for messages. */
  rel: string;
  /** Called with the SHA-256 (hex) of the bytes copied and the time the read started (ms). */
  onHash?: (sha256: string, readStartMs: number) => void;
}

/** One member of a layer: its header and, for files, its content (a buffer or stream, or a context file). */
export interface LayerEntry {
  header: TarHeaderInput;
  body?: () => Readable | Buffer;
  file?: LayerFile;
}

/** A layer in the store. */
export interface BuiltLayer {
  digest: Digest;
  size: number;
  /** Regular-file bytes of the tar (Docker's layer size: what applying it writes). */
  diskSize: number;
}

/** A layer written to the store's ingest area, not committed yet. */
export interface StagedLayer {
  blob: StagedBlob;
  layer: BuiltLayer;
}

/** Options of stageLayer. */
export interface StageLayerOptions {
  /** Expected regular-file bytes: big layers are hashed on a worker thread with larger blocks. */
  sizeHint?: number;
}

const BIG_LAYER = 32 << 20;
const ZEROS = Buffer.alloc(BLOCK * 2);

function readError(err: unknown, rel: string): SlipwayError {
  if (err instanceof SlipwayError) return err;
  if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) return new SlipwayError('BUILD', `cannot read "${rel}" in the build context: permission denied`, { cause: err });
  if (isErrno(err, 'ENOENT')) return new SlipwayError('BUILD', `"${rel}" disappeared from the build context during the build`, { cause: err });
  return new SlipwayError('BUILD', `cannot read "${rel}" in the build context: ${(err as Error).message}`, { cause: err });
}

function sizeMismatch(name: string, size: number, got: number): SlipwayError {
  return new SlipwayError('INVALID_ARGUMENT', `tar writer: entry "${name}": header says ${size} bytes but the body ${got > size ? 'has more' : `has ${got}`}`);
}

/** The block being filled, in a ring slot. */
interface Cursor { ring: SlotRing; slot: number; block: Buffer; pos: number }

/** Hands the filled part of the block to the consumer, then starts a new block. */
async function* flush(c: Cursor): AsyncGenerator<Buffer> {
  if (c.pos === 0) return;
  const full = c.block.subarray(0, c.pos);
  const slot = c.slot;
  yield full; // resumed once the consumer took its own holds (write behind, hash)
  c.ring.release(slot);
  c.slot = -1;
  c.slot = await c.ring.acquire();
  c.block = c.ring.slot(c.slot);
  c.pos = 0;
}

async function* put(c: Cursor, bytes: Buffer): AsyncGenerator<Buffer> {
  let off = 0;
  while (off < bytes.length) {
    const n = Math.min(bytes.length - off, c.block.length - c.pos);
    bytes.copy(c.block, c.pos, off, off + n);
    c.pos += n;
    off += n;
    if (c.pos === c.block.length) yield* flush(c);
  }
}

/** A context file read straight into the blocks, hashed on the way when asked. */
async function* putFile(c: Cursor, f: LayerFile, size: number): AsyncGenerator<Buffer> {
  const start = Date.now();
  const hash = f.onHash ? createHash('sha256') : undefined;
  let fd: number;
  try {
    fd = fs.openSync(f.abs, 'r');
  } catch (err) {
    throw readError(err, f.rel);
  }
  try {
    let left = size;
    while (left > 0) {
      let n: number;
      try {
        n = fs.readSync(fd, c.block, c.pos, Math.min(c.block.length - c.pos, left), null);
      } catch (err) {
        throw readError(err, f.rel);
      }
      if (n === 0) throw new SlipwayError('BUILD', `"${f.rel}" in the build context shrank while the build was copying it`);
      hash?.update(c.block.subarray(c.pos, c.pos + n));
      c.pos += n;
      left -= n;
      if (c.pos === c.block.length) yield* flush(c);
    }
  } finally {
    fs.closeSync(fd);
  }
  if (hash && f.onHash) f.onHash(hash.digest('hex'), start);
}

async function* putBody(c: Cursor, name: string, size: number, body: Readable | Buffer): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(body)) {
    if (body.length !== size) throw sizeMismatch(name, size, body.length);
    yield* put(c, body);
    return;
  }
  let written = 0;
  for await (const chunk of body as AsyncIterable<Buffer | Uint8Array>) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    written += buf.length;
    if (written > size) throw sizeMismatch(name, size, written);
    yield* put(c, buf);
  }
  if (written !== size) throw sizeMismatch(name, size, written);
}

/** The tar bytes of `entries`, block by block; counts regular-file bytes into `totals`. */
async function* tarBlocks(entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>, ring: SlotRing, totals: { diskSize: number }): AsyncGenerator<Buffer> {
  const first = await ring.acquire();
  const c: Cursor = { ring, slot: first, block: ring.slot(first), pos: 0 };
  try {
    for await (const e of entries) {
      const body = e.file ? undefined : e.body?.();
      const h = normalizeHeader(e.header, Buffer.isBuffer(body) ? body.length : null);
      if (h.type === 'file') totals.diskSize += h.size;
      if (h.size > 0 && body === undefined && e.file === undefined) {
        throw new SlipwayError('INVALID_ARGUMENT', `tar writer: entry "${h.name}": size ${h.size} but no body`);
      }
      for (const b of encodeHeader(h, { preciseMtime: false })) yield* put(c, b);
      if (e.file) yield* putFile(c, e.file, h.size);
      else if (body !== undefined && (h.size > 0 || !Buffer.isBuffer(body))) yield* putBody(c, h.name, h.size, body);
      else if (Buffer.isBuffer(body) && body.length !== 0) throw sizeMismatch(h.name, h.size, body.length);
      const pad = (BLOCK - (h.size % BLOCK)) % BLOCK;
      if (pad > 0) yield* put(c, ZEROS.subarray(0, pad));
    }
    yield* put(c, ZEROS);
    yield* flush(c);
  } finally {
    if (c.slot >= 0) ring.release(c.slot);
  }
}

/** Writes `entries` as a layer blob into the store's ingest area (not committed: see BlobStore.commit/discard). */
export async function stageLayer(blobs: BlobStore, entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>, opts: StageLayerOptions = {}): Promise<StagedLayer> {
  const big = (opts.sizeHint ?? 0) >= BIG_LAYER;
  const ring = big ? new SlotRing(4 << 20, 6) : new SlotRing(1 << 20, 4);
  // The worker thread module is loaded only for big layers (start-up time of small builds).
  const pool: HashWorkerPool | undefined = big ? new (await import('../archive/hash-worker.js')).HashWorkerPool(ring) : undefined;
  const totals = { diskSize: 0 };
  try {
    const blob = await blobs.stage(tarBlocks(entries, ring, totals), {
      what: 'layer', retain: (chunk) => ring.retain(chunk), ...(pool ? { hasher: pool.hasher() } : {}),
    });
    return { blob, layer: { digest: blob.digest, size: blob.size, diskSize: totals.diskSize } };
  } finally {
    await pool?.close();
  }
}

/** Writes `entries` as a layer blob and commits it. */
export async function writeLayer(blobs: BlobStore, entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>, opts: StageLayerOptions = {}): Promise<BuiltLayer> {
  const { blob, layer } = await stageLayer(blobs, entries, opts);
  await blobs.commit(blob);
  return layer;
}

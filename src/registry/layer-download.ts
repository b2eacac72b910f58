/**
 * Downloading one layer blob into the store, resumably. The response body
 * is copied into 1 MiB slots of a shared SlotRing (taken from this
 * download's own pool of its slots); each slot is hashed on the hashing
 * worker (the blob's digest, no copy) and, for a compressed
 * layer, also written to a partial file (ingest/<hex>...partial, see
 * store/partial) and inflated; the uncompressed bytes, gathered into
 * slots of their own, go through a LayerSink (written, hashed into the
 * diff ID on the second hashing worker, scanned as a tar, fsynced).
 * An uncompressed layer is hashed once, and its partial file is the
 * layer's own ingest file. The layer file's whole, aligned slots are
 * written with direct I/O where the filesystem takes it (store/direct-io).
 * Only when the blob's size and digest and the diff ID all check is the
 * layer renamed into the store.
 *
 * An interrupted download leaves its partial file; the next download of
 * the same digest reads those bytes back (hashing them again), asks the
 * registry for the rest with a Range request, and verifies the whole.
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { zlib } from '../builtins.js';
import { SlipwayError, isSlipwayError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { HashWorkerPool } from '../archive/hash-worker.js';
import type { SlotPool, SlotRing } from '../archive/slot-ring.js';
import { decompress, detectCompression } from '../layer/index.js';
import type { BlobStore } from '../store/blobs.js';
import { openDirect } from '../store/direct-io.js';
import { openPartial, releasePartial, resetPartial, type PartialFile } from '../store/partial.js';
import { uniqueSuffix } from '../store/unique.js';
import type { RegistryClient } from './client.js';
import { FileWriter, LayerSink, type SinkResult } from './layer-sink.js';
import { RawAnswer } from './raw-get.js';
import { RingFill } from './ring-fill.js';

/** What the layer downloads of one pull share. */
export interface DownloadContext {
  blobs: BlobStore;
  client: RegistryClient;
  repo: string;
  ring: SlotRing;
  /**
   * Idle slot pools of the ring, one per concurrent download: a download
   * fills only its own pool's slots, so downloads that hold slots while
   * they wait (a tar scan keeps its last chunks) never starve each other.
   */
  slotPools: DownloadSlots[];
  /** Hashes slots on a worker thread (blob digests). */
  pool: HashWorkerPool;
  /** A second hashing thread, for the diff IDs of compressed layers. */
  diffPool: HashWorkerPool;
  /**
   * Set when the store's filesystem takes direct I/O (store/direct-io):
   * whether a chunk's memory is aligned for it (ring slots are).
   */
  directAligned?: (chunk: Buffer) => boolean;
  /** Response bodies in flight (destroyed when another layer fails). */
  live: Set<{ destroy(err?: Error): void }>;
}

/**
 * The ring slots one download fills: the blob's bytes as they arrive, and
 * (for a compressed blob) the inflated bytes, gathered into slots of their
 * own so that they too are hashed without a copy and written with direct
 * I/O. Two pools: inflating never waits for slots the network holds.
 */
export interface DownloadSlots {
  network: SlotPool;
  inflated: SlotPool;
}

/** One layer to fetch. */
export interface LayerDownload {
  desc: Descriptor;
  diffId: Digest;
  /** Bytes of the blob received so far (resumed bytes included). */
  onBytes?: (n: number) => void;
  /** Called once every byte has arrived. */
  onComplete?: () => void;
}

/** What a download did. */
export interface DownloadResult {
  /** Docker's size of the layer. */
  diskSize: number;
  /** Bytes of the blob found in a partial file instead of fetched. */
  resumed: number;
}

/** True for failures that say the bytes themselves are wrong (a partial file of them is useless). */
function contentError(err: unknown): boolean {
  return (isSlipwayError(err, 'DIGEST_MISMATCH') && !/truncated/.test(err.message)) || isSlipwayError(err, 'INVALID_ARCHIVE');
}

/**
 * Downloads, verifies and commits one layer (its diff ID becomes a blob).
 * A resumed download whose bytes turn out wrong is started again once
 * from the first byte.
 */
export async function downloadLayer(t: DownloadContext, download: LayerDownload): Promise<DownloadResult> {
  const slots = t.slotPools.pop();
  if (slots === undefined) throw new SlipwayError('INTERNAL', 'more concurrent layer downloads than slot pools');
  const job = { ...download, slots };
  try {
    const partial = await openPartial(t.blobs.root, job.desc.digest);
    try {
      return await attempt(t, job, partial);
    } catch (err) {
      if (partial.resumed > 0 && contentError(err)) {
        await releasePartial(partial, false);
        return await attempt(t, job, await openPartial(t.blobs.root, job.desc.digest));
      }
      throw err;
    }
  } finally {
    t.slotPools.push(slots);
  }
}

type Job = LayerDownload & { slots: DownloadSlots };

async function attempt(t: DownloadContext, job: Job, opened: PartialFile): Promise<DownloadResult> {
  const { desc } = job;
  let partial = opened.resumed > desc.size ? await resetPartial(opened) : opened;
  const what = `layer ${desc.digest}`;
  let res: Readable | RawAnswer | undefined;
  let fill: RingFill | undefined;
  let pipe: Pipeline | undefined;
  try {
    if (partial.resumed < desc.size) {
      // The body straight into ring slots when the registry gives a plain answer; else through the HttpClient.
      let got: { answer: Readable | RawAnswer; start: number } | undefined = await t.client.openBlobRaw(t.repo, desc.digest, partial.resumed);
      if (got === undefined) {
        const g = await t.client.getBlobFrom(t.repo, desc.digest, partial.resumed);
        got = { answer: g.res.body, start: g.start };
      }
      if (got.start === 0 && partial.resumed > 0) partial = await resetPartial(partial);
      res = got.answer;
      t.live.add(res);
    }
    const p = new Pipeline(t, job, partial);
    pipe = p;
    const f = new RingFill(job.slots.network, (chunk) => p.slot(chunk));
    fill = f;
    if (partial.resumed > 0) await f.readFile(partial.fh, partial.resumed);
    if (res instanceof RawAnswer) await receiveRaw(res, f, desc.size, what);
    else if (res) await receive(res, f, desc.size, what);
    await f.finish();
    if (f.offset !== desc.size) throw new SlipwayError('DIGEST_MISMATCH', `${what}: truncated: ${f.offset} of ${desc.size} bytes arrived`);
    job.onComplete?.();
    const diskSize = await p.finish();
    return { diskSize, resumed: partial.resumed };
  } catch (err) {
    res?.destroy();
    await fill?.close(!contentError(err));
    await pipe?.abort();
    await releasePartial(partial, !contentError(err));
    throw err;
  } finally {
    if (res) t.live.delete(res);
  }
}

/** Copies the response body into the ring, failing as soon as more than `size` bytes arrive. */
async function receive(body: Readable, fill: RingFill, size: number, what: string): Promise<void> {
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (fill.offset + fill.pending + chunk.length > size) throw new SlipwayError('DIGEST_MISMATCH', `${what}: more than the expected ${size} bytes arrived`);
      await fill.add(chunk);
    }
  } catch (err) {
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('REGISTRY', `${what}: download failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads a raw answer's body into the ring (see raw-get.ts), refusing one longer than the blob. */
async function receiveRaw(answer: RawAnswer, fill: RingFill, size: number, what: string): Promise<void> {
  if (fill.offset + fill.pending + (answer.contentLength ?? 0) > size) {
    answer.close();
    throw new SlipwayError('DIGEST_MISMATCH', `${what}: more than the expected ${size} bytes arrived`);
  }
  try {
    await answer.body(fill);
  } catch (err) {
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('REGISTRY', `${what}: download failed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The work on a blob's slots: its digest on the worker; for a compressed
 * blob the partial file and the decompressor, feeding a LayerSink on an
 * ingest file of its own; for an uncompressed one, the LayerSink on the
 * partial file itself.
 */
class Pipeline {
  private readonly blobHash;
  private mode: 'none' | 'compressed' | undefined;
  private sink: LayerSink | undefined;
  private sinkFile: { fh: FileHandle; path: string } | undefined;
  private tee: FileWriter | undefined;
  private inflate: Transform | PassThrough | undefined;
  private drained: Promise<void> | undefined;
  private received = 0;
  /** The O_DIRECT handle on the layer's file (the partial file of an uncompressed blob, else the ingest file); aligned slots are written through it. */
  private directFh: FileHandle | undefined;
  /** Why the decompression side stopped early. */
  private failure: unknown;

  constructor(private readonly t: DownloadContext, private readonly job: Job, private readonly partial: PartialFile) {
    this.blobHash = t.pool.hasher();
  }

  private get what(): string {
    return `layer ${this.job.desc.digest}`;
  }

  /** Handles the next slot of the blob (the slot is reused once this returns, unless held). */
  async slot(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.mode === undefined) await this.start(chunk);
    this.received += chunk.length;
    this.job.onBytes?.(this.received);
    if (this.mode === 'none') {
      await this.sink?.write(chunk);
      return;
    }
    void this.blobHash.update(chunk);
    await this.tee?.write(chunk);
    await this.toInflate(chunk);
  }

  private async start(first: Buffer): Promise<void> {
    const retain = (c: Buffer): (() => void) => this.t.ring.retain(c);
    const kind = detectCompression(first.subarray(0, 6));
    if (kind === 'none') {
      this.mode = 'none';
      // The blob is the layer: hashed once (its digest must also be the diff ID), written with direct I/O where it can be.
      const direct = await this.openDirect(this.partial.path);
      this.sink = new LayerSink({ fh: this.partial.fh, hasher: this.blobHash, label: this.what, skip: this.partial.resumed, retain, ...(direct ? { direct } : {}) });
      return;
    }
    this.mode = 'compressed';
    this.tee = new FileWriter(this.partial.fh, { skip: this.partial.resumed, retain });
    const path = join(this.t.blobs.root, 'ingest', uniqueSuffix());
    this.sinkFile = { fh: await open(path, 'wx', 0o644), path };
    const direct = await this.openDirect(path);
    this.sink = new LayerSink({ fh: this.sinkFile.fh, hasher: this.t.diffPool.hasher(), label: this.what, retain, ...(direct ? { direct } : {}) });
    if (kind === 'gzip') {
      // Node passes stream options through to the Transform (its types omit them): a few slots queue at zlib's input.
      const streamOpts = { writableHighWaterMark: 4 << 20, readableHighWaterMark: 2 << 20 };
      this.inflate = zlib().createGunzip({ chunkSize: 1 << 20, ...streamOpts });
      this.drained = this.consume(this.inflate);
    } else {
      const input = new PassThrough();
      this.inflate = input;
      this.drained = decompress(input).then((out) => this.consume(out));
    }
    this.inflate.on('error', () => undefined); // seen by consume (or decompress) as its stream's error
    this.drained.catch((err: unknown) => {
      this.failure ??= err;
      this.inflate?.destroy();
    });
  }

  /** The inflated bytes, gathered into this download's own slots, into the LayerSink. */
  private async consume(out: Readable): Promise<void> {
    const fill = new RingFill(this.job.slots.inflated, (slot) => (this.sink as LayerSink).write(slot));
    try {
      for await (const c of out as AsyncIterable<Buffer>) await fill.add(c);
      await fill.finish();
    } catch (err) {
      await fill.close();
      if (err instanceof SlipwayError) throw err;
      throw new SlipwayError('INVALID_ARCHIVE', `${this.what}: decompression failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Writes a slot to the decompressor, holding it until zlib has read it (ring memory); other programs get a copy. */
  private async toInflate(chunk: Buffer): Promise<void> {
    const z = this.inflate as Transform;
    const isZlib = !(z instanceof PassThrough);
    const data = isZlib ? chunk : Buffer.from(chunk);
    const release = isZlib ? this.t.ring.retain(chunk) : undefined;
    const ok = z.write(data, () => release?.());
    if (!ok) await Promise.race([new Promise((r) => z.once('drain', r)), this.drained]);
  }

  /** Ends the blob: checks its digest and the diff ID, then commits the layer; returns Docker's size of it. */
  async finish(): Promise<number> {
    const { desc, diffId } = this.job;
    let result: SinkResult;
    if (this.mode === 'compressed') {
      this.inflate?.end();
      await this.drained;
      result = await (this.sink as LayerSink).finish();
      await this.tee?.flush();
      const hex = await this.blobHash.digest();
      if (`sha256:${hex}` !== desc.digest) throw new SlipwayError('DIGEST_MISMATCH', `${this.what}: the registry sent content with digest sha256:${hex}, expected ${desc.digest}`);
    } else {
      this.sink ??= new LayerSink({ fh: this.partial.fh, hasher: this.blobHash, label: this.what });
      result = await this.sink.finish();
      if (result.digest !== desc.digest) throw new SlipwayError('DIGEST_MISMATCH', `${this.what}: the registry sent content with digest ${result.digest}, expected ${desc.digest}`);
    }
    if (result.digest !== diffId) throw new SlipwayError('DIGEST_MISMATCH', `${this.what}: its uncompressed content has digest ${result.digest}, but the image config says ${diffId}`);
    await this.commit(result);
    return result.diskSize;
  }

  /** A direct-I/O handle on the layer's file (`path`), for FileWriter, when the store's filesystem takes it. */
  private async openDirect(path: string): Promise<{ fh: FileHandle; aligned: (chunk: Buffer) => boolean } | undefined> {
    const aligned = this.t.directAligned;
    if (aligned === undefined) return undefined;
    this.directFh = await openDirect(path);
    return this.directFh ? { fh: this.directFh, aligned } : undefined;
  }

  private async commit(result: SinkResult): Promise<void> {
    const blobs = this.t.blobs;
    const file = this.sinkFile ?? { fh: this.partial.fh, path: this.partial.path };
    await this.directFh?.close();
    this.directFh = undefined;
    await file.fh.close();
    await blobs.protect(result.digest);
    await blobs.commit({ digest: result.digest, size: result.size, tmpPath: file.path });
    this.sinkFile = undefined;
    if (this.mode === 'compressed') await releasePartial(this.partial, false);
  }

  /** After a failure: stops the decompressor and the sink, deletes the uncompressed ingest file (the partial file is the caller's). */
  async abort(): Promise<void> {
    this.inflate?.destroy();
    await this.drained?.catch(() => undefined);
    await this.sink?.abort();
    await this.tee?.flush().catch(() => undefined);
    await this.directFh?.close().catch(() => undefined);
    this.directFh = undefined;
    if (this.sinkFile) {
      await this.sinkFile.fh.close().catch(() => undefined);
      await unlink(this.sinkFile.path).catch(() => undefined);
    }
  }
}

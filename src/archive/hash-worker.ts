/**
 * SHA-256 on a second core: a worker thread hashes chunks that lie in a
 * SlotRing's shared memory, so that hashing a large archive member overlaps
 * reading it, parsing the tar and writing it to disk. Chunks that are not
 * ring memory (stdin, decompressed input) are first copied into a slot. The
 * digests are what node:crypto computes inline; only the thread changes.
 */
import { Worker } from 'node:worker_threads';
import { SlipwayError } from '../errors.js';
import type { IncrementalHasher } from '../store/blobs.js';
import type { SlotRing } from './slot-ring.js';

// CommonJS source of the worker (eval'd, so the bundle needs no extra file).
// In: [id, off, len] data, [id] end. Out: off (that data was hashed), [id, hex].
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const mem = Buffer.from(workerData);
const hashes = new Map();
parentPort.on('message', (m) => {
  let h = hashes.get(m[0]);
  if (!h) { h = createHash('sha256'); hashes.set(m[0], h); }
  if (m.length === 1) { hashes.delete(m[0]); parentPort.postMessage([m[0], h.digest('hex')]); return; }
  h.update(mem.subarray(m[1], m[1] + m[2]));
  parentPort.postMessage(m[1]);
});`;

/**
 * One worker thread hashing out of `ring`, shared by the hashers it hands
 * out (each hasher's chunks are hashed in order). The thread starts on
 * first use; call `close()` when done.
 */
export class HashWorkerPool {
  private worker: Worker | undefined;
  private nextId = 1;
  private pending = 0;
  /** Slots sent for hashing and not acknowledged yet, oldest first. */
  private readonly inflight: number[] = [];
  /** Per hasher, a slot being filled with copies of its chunks (hashers may run concurrently). */
  private readonly partials = new Map<number, { id: number; slot: number; used: number }>();
  private failure: Error | undefined;
  private readonly results = new Map<number, { resolve: (hex: string) => void; reject: (err: Error) => void }>();

  constructor(private readonly ring: SlotRing) {}

  /** A new incremental SHA-256 whose work runs on the pool's thread. */
  hasher(): IncrementalHasher {
    const id = this.nextId++;
    return {
      update: (chunk) => this.update(id, chunk),
      digest: () => this.finish(id),
    };
  }

  /** Stops the worker (pending digests fail). */
  async close(): Promise<void> {
    for (const p of this.partials.values()) this.ring.release(p.slot);
    this.partials.clear();
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.failure) throw this.failure;
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: this.ring.sab });
    w.on('message', (m: number | [number, string]) => this.onMessage(m));
    w.on('error', (err) => this.fail(err));
    w.on('exit', () => this.fail(new Error('the hashing thread exited')));
    this.worker = w;
    return w;
  }

  private onMessage(m: number | [number, string]): void {
    this.pending--;
    if (typeof m === 'number') {
      this.inflight.shift();
      this.ring.release(this.ring.slotAt(m));
    } else {
      const r = this.results.get(m[0]);
      this.results.delete(m[0]);
      r?.resolve(m[1]);
    }
    if (this.pending === 0) this.worker?.unref();
  }

  private fail(err: Error): void {
    this.failure ??= new SlipwayError('INTERNAL', `hashing thread: ${err.message}`, { cause: err });
    for (const r of this.results.values()) r.reject(this.failure);
    this.results.clear();
    for (const i of this.inflight.splice(0)) this.ring.release(i);
  }

  private post(msg: number[]): void {
    const w = this.start();
    if (this.pending++ === 0) w.ref();
    w.postMessage(msg);
  }

  private async update(id: number, chunk: Buffer): Promise<void> {
    const ring = this.ring;
    const i = ring.slotOf(chunk);
    if (i >= 0) {
      this.start();
      this.flushPartial(id);
      ring.hold(i);
      this.inflight.push(i);
      this.post([id, chunk.byteOffset, chunk.length]);
      return;
    }
    // Other memory (stdin's 64 KiB chunks, decompressed data): copied into slots, each sent once full.
    let off = 0;
    while (off < chunk.length) {
      const p = await this.partialFor(id);
      const n = Math.min(ring.slotSize - p.used, chunk.length - off);
      chunk.copy(ring.slot(p.slot), p.used, off, off + n);
      p.used += n;
      off += n;
      if (p.used === ring.slotSize) this.flushPartial(id);
    }
  }

  /** The slot being filled for hasher `id` (each hasher's calls are sequential, so only it touches its slot). */
  private async partialFor(id: number): Promise<{ id: number; slot: number; used: number }> {
    const have = this.partials.get(id);
    if (have) return have;
    this.start();
    const slot = await this.ring.acquire();
    if (this.failure) {
      this.ring.release(slot);
      throw this.failure;
    }
    const p = { id, slot, used: 0 };
    this.partials.set(id, p);
    return p;
  }

  private flushPartial(id: number): void {
    const p = this.partials.get(id);
    this.partials.delete(id);
    if (!p) return;
    this.inflight.push(p.slot);
    this.post([p.id, this.ring.slot(p.slot).byteOffset, p.used]);
  }

  private finish(id: number): Promise<string> {
    this.flushPartial(id);
    return new Promise((resolve, reject) => {
      this.results.set(id, { resolve, reject });
      this.post([id]);
    });
  }
}

/**
 * Gathers a byte stream (network chunks of up to 64 KiB, or a file read
 * back) into full slots of a SlotRing, so that the work on it (hashing on a
 * worker thread, zlib, disk writes) runs on large pieces of shared memory
 * that are reused instead of allocated. Full slots are handed on in order
 * while filling goes on (the handler runs behind the filling); the ring
 * bounds the memory: when every slot is held, `add` waits, and so does
 * whoever feeds it.
 */
import type { FileHandle } from 'node:fs/promises';
import type { SlotSource } from '../archive/slot-ring.js';

/**
 * Called with each full slot (the last one may be short), in order. The
 * slot is reused once the returned promise settles: anything that keeps
 * the bytes longer must hold the slot (SlotRing.retain).
 */
export type SlotHandler = (chunk: Buffer) => Promise<void> | void;

/** Fills ring slots from chunks or from a file, handing each full slot to a handler. */
export class RingFill {
  /** Bytes handed to the handler so far (or queued for it). */
  offset = 0;
  private index = -1;
  private used = 0;
  /** The handler's work so far, in order. */
  private chain: Promise<void> = Promise.resolve();
  private failure: { err: unknown } | undefined;

  /** Slots are taken from `ring` (a whole SlotRing or a pool of one). */
  constructor(private readonly ring: SlotSource, private readonly handler: SlotHandler) {}

  /** Bytes gathered in the current slot, not handed on yet. */
  get pending(): number {
    return this.used;
  }

  /** Copies `chunk` in, handing on every slot it fills. */
  async add(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const room = await this.room();
      const n = chunk.copy(room, 0, off);
      off += n;
      this.used += n;
      if (this.used === this.ring.slotSize) await this.emit();
    }
  }

  /**
   * The free part of the slot being filled, for a reader that writes into
   * it directly (a socket's `onread` buffer); a free slot is taken now if
   * none is held; undefined when every slot is in use (see `whenSpace`).
   * Report what was written with `wrote`.
   */
  space(): Buffer | undefined {
    if (this.failure) throw this.failure.err;
    if (this.index < 0) {
      this.index = this.ring.tryAcquire();
      this.used = 0;
      if (this.index < 0) return undefined;
    }
    return this.ring.slot(this.index).subarray(this.used);
  }

  /** Counts `n` bytes written at the start of `space()`; a full slot is handed on. Throws the handler's first failure. */
  wrote(n: number): void {
    this.used += n;
    if (this.used === this.ring.slotSize) void this.emit().catch(() => undefined);
    if (this.failure) throw this.failure.err;
  }

  /** Resolves when `space()` may find a free slot again. */
  async whenSpace(): Promise<void> {
    if (this.index < 0) await this.ring.whenFree();
  }

  /** Reads bytes [0, end) of `fh` straight into slots (a resumed download's partial file). */
  async readFile(fh: FileHandle, end: number): Promise<void> {
    let pos = 0;
    while (pos < end) {
      const room = await this.room();
      const { bytesRead } = await fh.read(room, 0, Math.min(room.length, end - pos), pos);
      if (bytesRead === 0) throw new Error(`the partial file ended at ${pos} of ${end} bytes`);
      pos += bytesRead;
      this.used += bytesRead;
      if (this.used === this.ring.slotSize) await this.emit();
    }
  }

  /** Hands on the last, short slot and waits until the handler has seen every slot; throws its first failure. */
  async finish(): Promise<void> {
    if (this.used > 0) await this.emit();
    this.dispose();
    await this.chain;
    if (this.failure) throw this.failure.err;
  }

  /**
   * After a failure: with `flush`, hands on the bytes gathered in the
   * current slot first (an interrupted download keeps what arrived); then
   * waits for the handler's queued work, whose errors are dropped.
   */
  async close(flush = false): Promise<void> {
    if (flush && !this.failure && this.used > 0) await this.emit().catch(() => undefined);
    this.failure ??= { err: new Error('closed') };
    this.dispose();
    await this.chain;
  }

  /** Gives the current slot back. */
  private dispose(): void {
    if (this.index >= 0) this.ring.release(this.index);
    this.index = -1;
    this.used = 0;
  }

  private async room(): Promise<Buffer> {
    if (this.failure) throw this.failure.err;
    if (this.index < 0) {
      this.index = await this.ring.acquire();
      this.used = 0;
    }
    return this.ring.slot(this.index).subarray(this.used);
  }

  private async emit(): Promise<void> {
    const i = this.index;
    const chunk = this.ring.slot(i).subarray(0, this.used);
    this.index = -1;
    this.used = 0;
    this.offset += chunk.length;
    this.chain = this.chain.then(async () => {
      try {
        if (!this.failure) await this.handler(chunk);
      } catch (err) {
        this.failure ??= { err };
      } finally {
        this.ring.release(i);
      }
    });
    if (this.failure) throw this.failure.err;
  }
}

/**
 * A fixed set of equal-sized buffer slots in one SharedArrayBuffer, with
 * reference counts: an archive is read into the slots, and the same memory
 * is then hashed on a worker thread, written to disk and parsed, without
 * copies and without allocating (and page-faulting) fresh buffers per chunk.
 * A slot is reused only when every holder has released it.
 */

/** Slot memory shared between this thread and the hashing worker. */
export class SlotRing {
  readonly sab: SharedArrayBuffer;
  private readonly mem: Buffer;
  private readonly refs: Uint32Array;
  private readonly free: number[] = [];
  private waiters: (() => void)[] = [];

  /** `count` slots of `slotSize` bytes each. */
  constructor(readonly slotSize: number, readonly count: number) {
    this.sab = new SharedArrayBuffer(slotSize * count);
    this.mem = Buffer.from(this.sab);
    this.refs = new Uint32Array(count);
    for (let i = count - 1; i >= 0; i--) this.free.push(i);
  }

  /** A free slot's index, held once by the caller (waits until one is released). */
  async acquire(): Promise<number> {
    for (;;) {
      const i = this.free.pop();
      if (i !== undefined) {
        this.refs[i] = 1;
        return i;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** A free slot's index, held once by the caller, or -1 when every slot is in use. */
  tryAcquire(): number {
    const i = this.free.pop();
    if (i === undefined) return -1;
    this.refs[i] = 1;
    return i;
  }

  /** Resolves once a slot is free (it may be taken by someone else first). */
  async whenFree(): Promise<void> {
    if (this.free.length > 0) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** The whole memory of slot `i`. */
  slot(i: number): Buffer {
    return this.mem.subarray(i * this.slotSize, (i + 1) * this.slotSize);
  }

  /** The slot `buf` lies in, or -1 when it is not (wholly) ring memory. */
  slotOf(buf: Buffer): number {
    if (buf.buffer !== this.sab || buf.length === 0) return -1;
    const i = Math.floor(buf.byteOffset / this.slotSize);
    return Math.floor((buf.byteOffset + buf.length - 1) / this.slotSize) === i ? i : -1;
  }

  /** Takes one more hold on a slot. */
  hold(i: number): void {
    this.refs[i] = (this.refs[i] as number) + 1;
  }

  /** Drops one hold; the slot is free again at zero. */
  release(i: number): void {
    const n = (this.refs[i] as number) - 1;
    this.refs[i] = n;
    if (n > 0) return;
    this.free.push(i);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Holds the slot of `buf` if it is ring memory; returns the release
   * function (a no-op for other buffers).
   */
  retain(buf: Buffer): () => void {
    const i = this.slotOf(buf);
    if (i < 0) return noop;
    this.hold(i);
    return () => this.release(i);
  }
}

function noop(): void {}

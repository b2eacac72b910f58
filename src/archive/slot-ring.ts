/**
 * A fixed set of equal-sized buffer slots in one SharedArrayBuffer, with
 * reference counts: an archive is read into the slots, and the same memory
 * is then hashed on a worker thread, written to disk and parsed, without
 * copies and without allocating (and page-faulting) fresh buffers per chunk.
 * A slot is reused only when every holder has released it.
 */

/**
 * Where free slots are taken from: a whole SlotRing, or a SlotPool carved
 * out of one. A taken slot is held once; it is free again when every hold
 * is released (`release`, or the ring's `release`).
 */
export interface SlotSource {
  readonly slotSize: number;
  /** A free slot's index, held once by the caller (waits until one is released). */
  acquire(): Promise<number>;
  /** A free slot's index, held once by the caller, or -1 when every slot is in use. */
  tryAcquire(): number;
  /** Resolves once a slot is free (it may be taken by someone else first). */
  whenFree(): Promise<void>;
  /** The whole memory of slot `i`. */
  slot(i: number): Buffer;
  /** Drops one hold on slot `i`. */
  release(i: number): void;
}

/**
 * Slots of a ring reserved for one user (one layer download, say): only
 * that user takes them, so users that hold slots while they wait for more
 * (a tar scan keeping its last chunks) can never starve each other. The
 * ring's slots outside any pool are a pool too (the ring's own).
 */
export class SlotPool implements SlotSource {
  /** @internal Free slot indexes; the most recently freed is taken first (its memory is the likeliest to be in cache). */
  readonly free: number[] = [];
  private waiters: (() => void)[] = [];

  /** @internal Made by SlotRing. */
  constructor(private readonly ring: SlotRing, private readonly refs: Uint32Array) {}

  get slotSize(): number {
    return this.ring.slotSize;
  }

  async acquire(): Promise<number> {
    for (;;) {
      const i = this.tryAcquire();
      if (i >= 0) return i;
      await this.whenFree();
    }
  }

  tryAcquire(): number {
    const i = this.free.pop();
    if (i === undefined) return -1;
    this.refs[i] = 1;
    return i;
  }

  async whenFree(): Promise<void> {
    if (this.free.length > 0) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  slot(i: number): Buffer {
    return this.ring.slot(i);
  }

  release(i: number): void {
    this.ring.release(i);
  }

  /** @internal Slot `i` is free again. */
  put(i: number): void {
    this.free.push(i);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Options of SlotRing. */
export interface SlotRingOptions {
  /** Spare bytes before slot 0, for `place` to choose from (default 0). */
  headroom?: number;
  /**
   * Chooses where slot 0 starts (0 to `headroom`), looking at the memory
   * itself: e.g. the offset at which direct I/O accepts it (its address
   * is not visible to JavaScript; see store/direct-io).
   */
  place?: (mem: Buffer) => number;
}

/** Slot memory shared between this thread and the hashing worker. */
export class SlotRing implements SlotSource {
  readonly sab: SharedArrayBuffer;
  /** Where slot 0 starts in `sab`. */
  readonly base: number;
  private readonly mem: Buffer;
  private readonly refs: Uint32Array;
  private readonly own: SlotPool;
  /** The pool each slot belongs to (undefined: the ring's own). */
  private readonly owner: (SlotPool | undefined)[];

  /** `count` slots of `slotSize` bytes each. */
  constructor(readonly slotSize: number, readonly count: number, options: SlotRingOptions = {}) {
    const headroom = options.headroom ?? 0;
    this.sab = new SharedArrayBuffer(headroom + slotSize * count);
    this.mem = Buffer.from(this.sab);
    this.base = Math.min(headroom, Math.max(0, options.place?.(this.mem) ?? 0));
    this.refs = new Uint32Array(count);
    this.own = new SlotPool(this, this.refs);
    this.owner = new Array<SlotPool | undefined>(count).fill(undefined);
    for (let i = count - 1; i >= 0; i--) this.own.free.push(i);
  }

  /**
   * Moves `count` of the ring's free slots into a pool of their own; they
   * return to that pool, never to the ring, when released. Throws when
   * fewer are free.
   */
  pool(count: number): SlotPool {
    if (count < 1 || this.own.free.length < count) throw new RangeError(`a pool of ${count} slots: ${this.own.free.length} free`);
    const p = new SlotPool(this, this.refs);
    for (const i of this.own.free.splice(this.own.free.length - count, count)) {
      this.owner[i] = p;
      p.free.push(i);
    }
    return p;
  }

  /** A free slot's index (not from a pool), held once by the caller (waits until one is released). */
  acquire(): Promise<number> {
    return this.own.acquire();
  }

  /** A free slot's index (not from a pool), held once by the caller, or -1 when every slot is in use. */
  tryAcquire(): number {
    return this.own.tryAcquire();
  }

  /** Resolves once a slot (not from a pool) is free (it may be taken by someone else first). */
  whenFree(): Promise<void> {
    return this.own.whenFree();
  }

  /** The whole memory of slot `i`. */
  slot(i: number): Buffer {
    const at = this.base + i * this.slotSize;
    return this.mem.subarray(at, at + this.slotSize);
  }

  /** The slot `buf` lies in, or -1 when it is not (wholly) ring memory. */
  slotOf(buf: Buffer): number {
    if (buf.buffer !== this.sab || buf.length === 0 || buf.byteOffset < this.base) return -1;
    return this.slotAt(buf.byteOffset, buf.length);
  }

  /** The slot holding bytes [offset, offset + length) of `sab`, or -1 when they are not all in one slot. */
  slotAt(offset: number, length = 1): number {
    const i = Math.floor((offset - this.base) / this.slotSize);
    const ok = offset >= this.base && i < this.count && Math.floor((offset - this.base + length - 1) / this.slotSize) === i;
    return ok ? i : -1;
  }

  /** Takes one more hold on a slot. */
  hold(i: number): void {
    this.refs[i] = (this.refs[i] as number) + 1;
  }

  /** Drops one hold; the slot is free again at zero (in its pool, if it has one). */
  release(i: number): void {
    const n = (this.refs[i] as number) - 1;
    this.refs[i] = n;
    if (n > 0) return;
    (this.owner[i] ?? this.own).put(i);
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

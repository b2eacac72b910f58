/**
 * An in-memory, bounded, async-iterable queue of chunks between the code
 * that stages an archive member and the scan of that member as a tar (the
 * scan pulls through its own tar reader). Each chunk's `release` is called
 * once the reader can no longer refer to it: three pulls later (ByteSource
 * joins a header from slices of at most the two previous chunks), or when
 * the channel closes.
 */

/** Chunks queued before push waits for the reader. */
const MAX_QUEUED = 8;
/** Pulled chunks still held for the reader. */
const KEPT = 3;

interface Item {
  chunk: Buffer;
  release: (() => void) | undefined;
}

/** A single-reader chunk queue with back-pressure. */
export class ChunkChannel implements AsyncIterable<Buffer> {
  private readonly queue: Item[] = [];
  private readonly kept: Item[] = [];
  private ended = false;
  private closed = false;
  private wakeReader: (() => void) | undefined;
  private wakeWriter: (() => void) | undefined;

  /** Queues a chunk; waits while the queue is full. After close, releases it at once. */
  async push(chunk: Buffer, release?: () => void): Promise<void> {
    if (this.closed) {
      release?.();
      return;
    }
    this.queue.push({ chunk, release });
    this.wake('reader');
    while (this.queue.length > MAX_QUEUED && !this.closed) {
      await new Promise<void>((resolve) => { this.wakeWriter = resolve; });
    }
  }

  /** No more chunks: the reader sees the end once the queue is empty. */
  end(): void {
    this.ended = true;
    this.wake('reader');
  }

  /** The reader has stopped: releases every chunk and drops later ones. */
  close(): void {
    this.closed = true;
    for (const item of this.kept.splice(0)) item.release?.();
    for (const item of this.queue.splice(0)) item.release?.();
    this.wake('writer');
    this.wake('reader');
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    try {
      for (;;) {
        while (this.queue.length === 0 && !this.ended && !this.closed) {
          await new Promise<void>((resolve) => { this.wakeReader = resolve; });
        }
        const item = this.queue.shift();
        if (!item) return;
        this.wake('writer');
        this.kept.push(item);
        if (this.kept.length > KEPT) this.kept.shift()?.release?.();
        yield item.chunk;
      }
    } finally {
      this.close();
    }
  }

  private wake(who: 'reader' | 'writer'): void {
    const w = who === 'reader' ? this.wakeReader : this.wakeWriter;
    if (who === 'reader') this.wakeReader = undefined;
    else this.wakeWriter = undefined;
    w?.();
  }
}

/**
 * A pull-based view over a Readable's chunks that hands out zero-copy slices.
 * The tar reader parses headers from it and streams bodies as sub-arrays of
 * the input's own chunks, so large bodies are never copied.
 */
import type { Readable } from 'node:stream';

/** Result of readExact when EOF arrived part-way: how many bytes were there. */
export interface Short { short: number }

/** Chunked byte source over an async-iterable input. */
export class ByteSource {
  private readonly it: AsyncIterator<unknown>;
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  private ended = false;
  /** Bytes pulled from the input so far. */
  total = 0;

  constructor(input: Readable | AsyncIterable<unknown>, private readonly onChunk?: (chunk: Buffer) => void) {
    this.it = input[Symbol.asyncIterator]();
  }

  /** Bytes handed out so far (the archive offset of the next byte). */
  get position(): number {
    return this.total - (this.buf.length - this.off);
  }

  private async fill(): Promise<boolean> {
    while (!this.ended) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      const v = r.value;
      const chunk = Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v) : Buffer.from(v as Uint8Array);
      if (chunk.length === 0) continue;
      this.onChunk?.(chunk);
      this.total += chunk.length;
      this.buf = chunk;
      this.off = 0;
      return true;
    }
    return false;
  }

  /**
   * Exactly `n` bytes: a zero-copy slice when they sit in one chunk. Null
   * when the input was already at EOF; {short} when it ended part-way.
   */
  async readExact(n: number): Promise<Buffer | null | Short> {
    if (this.buf.length - this.off >= n) {
      const out = this.buf.subarray(this.off, this.off + n);
      this.off += n;
      return out;
    }
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      if (this.off >= this.buf.length && !(await this.fill())) {
        return got === 0 ? null : { short: got };
      }
      const take = Math.min(n - got, this.buf.length - this.off);
      parts.push(this.buf.subarray(this.off, this.off + take));
      this.off += take;
      got += take;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n);
  }

  /** Up to `max` bytes as a zero-copy slice of the current chunk; null at EOF. */
  async readSome(max: number): Promise<Buffer | null> {
    if (this.off >= this.buf.length && !(await this.fill())) return null;
    const take = Math.min(max, this.buf.length - this.off);
    const out = this.buf.subarray(this.off, this.off + take);
    this.off += take;
    return out;
  }

  /** Skip `n` bytes; returns how many were skipped (fewer only at EOF). */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.off >= this.buf.length && !(await this.fill())) break;
      const take = Math.min(left, this.buf.length - this.off);
      this.off += take;
      left -= take;
    }
    return n - left;
  }

  /** Read and discard everything up to EOF (so upstream errors, e.g. a bad gzip trailer, surface). */
  async drainAll(): Promise<void> {
    this.off = this.buf.length;
    while (await this.fill()) this.off = this.buf.length;
  }

  /** Stop reading: ends (and for Readables, destroys) the input. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.it.return?.();
  }
}

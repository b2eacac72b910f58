/**
 * Streaming tar writer. Entries are encoded like Go's archive/tar with
 * Format=PAX (see tar-encode.ts) and the archive ends with exactly two zero
 * blocks, no record padding, as Docker and BuildKit layers do.
 */
import { Readable } from 'node:stream';
import { SlipwayError } from '../errors.js';
import { BLOCK } from './tar-format.js';
import type { TarHeaderInput } from './tar-format.js';
import { encodeHeader, normalizeHeader } from './tar-encode.js';
import type { EncodeOptions } from './tar-encode.js';

/** Where a TarWriter in sink mode sends its bytes instead of the Readable side. */
export interface TarSink {
  /** Takes the next bytes of the archive; resolves when more may be sent (the buffer is not modified later by the writer). */
  write(buf: Buffer): Promise<void>;
}

/** Options of a TarWriter. */
export interface TarWriterOptions extends EncodeOptions {
  /** Bytes buffered before addEntry waits for the reader (default 1 MiB). */
  highWaterMark?: number;
  /**
   * Send the archive to `sink` rather than through the Readable (which then
   * stays empty and only reports errors): no stream hop per chunk.
   */
  sink?: TarSink;
}

/** A body to write: a Buffer, a Readable, or any async iterable of byte chunks. */
export type TarBody = Buffer | Readable | AsyncIterable<Uint8Array>;

const ZEROS = Buffer.alloc(BLOCK * 2);

/**
 * A tar archive as a Readable. Call `addEntry` for each member (calls are
 * queued in order; each promise resolves once its bytes were taken by the
 * consumer's buffer) and then `finish()`. A body whose length differs from
 * the header size fails the entry and destroys the stream.
 */
export class TarWriter extends Readable {
  private queue: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private finished = false;
  private readonly encodeOpts: EncodeOptions;
  private readonly sink: TarSink | undefined;

  constructor(opts: TarWriterOptions = {}) {
    super({ highWaterMark: opts.highWaterMark ?? 1 << 20 });
    this.encodeOpts = { preciseMtime: opts.preciseMtime ?? false };
    this.sink = opts.sink;
  }

  override _read(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.failure ??= err ?? new SlipwayError('IO', 'tar writer: the archive stream was closed');
    this._read();
    cb(err);
  }

  private async put(buf: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (buf.length === 0) return;
    if (this.sink) {
      await this.sink.write(buf);
      return;
    }
    if (!this.push(buf)) {
      await new Promise<void>((resolve) => { this.wake = resolve; });
      if (this.failure) throw this.failure;
    }
  }

  /** Append one entry. `body` is required for files with a non-zero size. */
  addEntry(header: TarHeaderInput, body?: TarBody): Promise<void> {
    if (this.finished) return Promise.reject(new SlipwayError('INTERNAL', 'tar writer: addEntry after finish'));
    const run = this.queue.then(() => this.writeEntry(header, body));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Write the end-of-archive marker and end the stream. */
  finish(): Promise<void> {
    if (this.finished) return this.queue;
    this.finished = true;
    const run = this.queue.then(async () => {
      if (this.failure) throw this.failure;
      await this.put(ZEROS);
      this.push(null);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Fail the archive: the consumer sees `err`. */
  abort(err: Error): void {
    this.destroy(err);
  }

  private async writeEntry(input: TarHeaderInput, body: TarBody | undefined): Promise<void> {
    if (this.failure) throw this.failure;
    const h = normalizeHeader(input, Buffer.isBuffer(body) ? body.length : null);
    if (h.size > 0 && body === undefined) {
      throw new SlipwayError('INVALID_ARGUMENT', `tar writer: entry "${h.name}": size ${h.size} but no body`);
    }
    for (const b of encodeHeader(h, this.encodeOpts)) await this.put(b);
    if (h.size === 0 && (body === undefined || Buffer.isBuffer(body))) {
      if (Buffer.isBuffer(body) && body.length !== 0) this.sizeMismatch(h.name, h.size, body.length);
      return;
    }
    try {
      await this.writeBody(h.name, h.size, body as TarBody);
    } catch (err) {
      this.destroy(err as Error);
      throw err;
    }
    const pad = (BLOCK - (h.size % BLOCK)) % BLOCK;
    await this.put(ZEROS.subarray(0, pad));
  }

  private async writeBody(name: string, size: number, body: TarBody): Promise<void> {
    if (Buffer.isBuffer(body)) {
      if (body.length !== size) this.sizeMismatch(name, size, body.length);
      await this.put(body);
      return;
    }
    let written = 0;
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      written += buf.length;
      if (written > size) this.sizeMismatch(name, size, written);
      await this.put(buf);
    }
    if (written !== size) this.sizeMismatch(name, size, written);
  }

  private sizeMismatch(name: string, size: number, got: number): never {
    const err = new SlipwayError('INVALID_ARGUMENT', `tar writer: entry "${name}": header says ${size} bytes but the body ${got > size ? 'has more' : `has ${got}`}`);
    this.destroy(err);
    throw err;
  }
}

/** Create a TarWriter (same as `new TarWriter(opts)`). */
export function createTarWriter(opts: TarWriterOptions = {}): TarWriter {
  return new TarWriter(opts);
}

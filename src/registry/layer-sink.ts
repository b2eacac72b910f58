/**
 * Where a pulled layer's uncompressed bytes go: one pass that writes them
 * to an ingest file (positioned writes behind the caller), hashes them (the
 * diff ID; on this thread or on the hashing worker) and scans them as a tar
 * for unsafe entries; `finish` then fsyncs the file. The file becomes a
 * blob only when the caller has checked the digests and commits it.
 */
import type { FileHandle } from 'node:fs/promises';
import { SlipwayError, isErrno } from '../errors.js';
import { ChunkChannel } from '../archive/chunk-channel.js';
import { scanTar } from '../layer/index.js';
import type { IncrementalHasher } from '../store/blobs.js';
import { DIRECT_IO_BLOCK } from '../store/direct-io.js';

/** Bytes of writes kept in flight while the caller goes on. */
const WRITE_BEHIND = 8 << 20;
/** After this many bytes written, the file's writeback is started (a background fdatasync), so the final fsync has less left. */
const EARLY_SYNC = 64 << 20;

/** Options of FileWriter. */
export interface FileWriterOptions {
  /** The first `skip` bytes are already in the file (a resumed download): they are counted, not written again. */
  skip?: number;
  /** Holds a chunk's memory until its write is done (ring slots); returns the release. */
  retain?: (chunk: Buffer) => () => void;
  /** Start writeback every EARLY_SYNC bytes (for files that will be fsynced). */
  earlySync?: boolean;
  /**
   * A second handle on the same file, opened with O_DIRECT (store/direct-io):
   * pieces whose file offset and length are multiples of DIRECT_IO_BLOCK and
   * whose memory `aligned` accepts go through it, the rest through the
   * ordinary handle. A direct write the kernel refuses is written the
   * ordinary way, and direct writes stop. The caller closes the handle.
   */
  direct?: { fh: FileHandle; aligned: (chunk: Buffer) => boolean };
}

/**
 * Sequential positioned writes that run while the caller prepares the next
 * chunk, one at a time (concurrent writes to one file contend for its inode
 * lock), at most WRITE_BEHIND bytes in flight. The first failure is thrown
 * by a later write or by flush. Chunks must not change until written.
 */
export class FileWriter {
  /** Bytes seen, skipped ones included. */
  size = 0;
  private inflight: { p: Promise<unknown>; n: number }[] = [];
  private bytes = 0;
  private failure: unknown;
  private last: Promise<unknown> = Promise.resolve();
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  private directOff = false;

  constructor(private readonly fh: FileHandle, private readonly options: FileWriterOptions = {}) {}

  /** Queues `chunk` at the current end; waits while too many bytes are in flight. */
  async write(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const skip = Math.max(0, Math.min(chunk.length, (this.options.skip ?? 0) - this.size));
    const at = this.size + skip;
    this.size += chunk.length;
    if (skip === chunk.length) return;
    const part = skip > 0 ? chunk.subarray(skip) : chunk;
    const release = this.options.retain?.(part);
    const direct = this.directFits(part, at);
    const p = this.last.then(() => this.put(part, at, direct)).then(release, (err: unknown) => {
      release?.();
      this.failure ??= err;
    });
    this.last = p;
    this.inflight.push({ p, n: part.length });
    this.bytes += part.length;
    if (!direct) this.unsynced += part.length; // direct bytes are on the device already
    if (this.options.earlySync && this.unsynced >= EARLY_SYNC && this.syncing === undefined) {
      this.unsynced = 0;
      const s = p.then(() => this.fh.datasync()).catch(() => undefined).finally(() => { this.syncing = undefined; });
      this.syncing = s;
    }
    while (this.bytes > WRITE_BEHIND) {
      const first = this.inflight.shift() as { p: Promise<unknown>; n: number };
      await first.p;
      this.bytes -= first.n;
    }
  }

  private directFits(part: Buffer, at: number): boolean {
    const d = this.options.direct;
    return d !== undefined && !this.directOff && part.length % DIRECT_IO_BLOCK === 0 && at % DIRECT_IO_BLOCK === 0 && d.aligned(part);
  }

  /** Writes all of `part` at `at`: directly when asked and possible, else (and for what a short write left) the ordinary way. */
  private async put(part: Buffer, at: number, direct: boolean): Promise<void> {
    let done = 0;
    if (direct && this.options.direct && !this.directOff) {
      try {
        done = (await this.options.direct.fh.write(part, 0, part.length, at)).bytesWritten;
      } catch (err) {
        if (!isErrno(err, 'EINVAL')) throw err;
        this.directOff = true;
      }
    }
    while (done < part.length) {
      const { bytesWritten } = await this.fh.write(part, done, part.length - done, at + done);
      if (bytesWritten === 0) throw new SlipwayError('IO', `a write of ${part.length - done} bytes wrote nothing`);
      done += bytesWritten;
    }
  }

  /** Waits for every queued write (and a running early writeback); throws the first failure. */
  async flush(): Promise<void> {
    await Promise.all(this.inflight.map((w) => w.p));
    this.inflight = [];
    this.bytes = 0;
    await this.syncing;
    if (this.failure !== undefined) throw this.failure;
  }
}

/** What a layer sink found. */
export interface SinkResult {
  /** sha256 of the bytes (the diff ID). */
  digest: `sha256:${string}`;
  size: number;
  /** Docker's size of the layer (the sum of the tar entries' sizes). */
  diskSize: number;
}

/** Options of LayerSink. */
export interface LayerSinkOptions {
  fh: FileHandle;
  hasher: IncrementalHasher;
  /** Named in errors. */
  label: string;
  /** The file already holds this many of the bytes (they are hashed and scanned, not written). */
  skip?: number;
  /** Holds ring memory until the write and the scan are done with it. */
  retain?: (chunk: Buffer) => () => void;
  /** Aligned pieces written with direct I/O (see FileWriterOptions.direct). */
  direct?: FileWriterOptions['direct'];
}

/** Writes, hashes and scans a layer's uncompressed bytes (see the file comment). */
export class LayerSink {
  private readonly writer: FileWriter;
  private readonly channel = new ChunkChannel();
  private readonly scan: Promise<{ contentBytes: number }>;
  private scanFailure: unknown;

  constructor(private readonly options: LayerSinkOptions) {
    const { retain, direct } = options;
    this.writer = new FileWriter(options.fh, { skip: options.skip ?? 0, earlySync: true, ...(retain ? { retain } : {}), ...(direct ? { direct } : {}) });
    this.scan = scanTar(this.channel, { label: options.label });
    this.scan.catch((err: unknown) => {
      this.scanFailure = err;
      this.channel.close();
    });
  }

  /** Adds the next chunk; throws at once when the scan has refused the tar. */
  async write(chunk: Buffer): Promise<void> {
    if (this.scanFailure !== undefined) throw this.scanFailure;
    await this.writer.write(chunk);
    await this.options.hasher.update(chunk);
    await this.channel.push(chunk, this.options.retain?.(chunk));
  }

  /** Ends the bytes: waits for the writes, the digest and the scan, then fsyncs the file. */
  async finish(): Promise<SinkResult> {
    this.channel.end();
    await this.writer.flush();
    const hex = await this.options.hasher.digest();
    const scan = await this.scan.catch((err: unknown) => {
      throw err instanceof SlipwayError ? err : new SlipwayError('INVALID_ARCHIVE', `${this.options.label}: ${(err as Error).message}`, { cause: err });
    });
    await this.options.fh.sync();
    return { digest: `sha256:${hex}`, size: this.writer.size, diskSize: scan.contentBytes };
  }

  /** Stops after a failure: ends the scan and waits for the queued writes (errors ignored). */
  async abort(): Promise<void> {
    this.channel.close();
    await this.writer.flush().catch(() => undefined);
  }
}

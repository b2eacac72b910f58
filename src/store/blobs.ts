/**
 * The content store: blobs addressed by sha256 under `blobs/sha256/<hex>`
 * (the OCI image-layout place). Writes go to `ingest/` while being hashed,
 * are fsynced, verified against the expected digest and size, and only then
 * renamed into place, so a blob path either does not exist or holds exactly
 * the bytes its name promises.
 */
import { open, rename, unlink, mkdir, readdir, type FileHandle } from 'node:fs/promises';
import { appendFileSync, createReadStream, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SlipwayError, isErrno } from '../errors.js';
import { digestHex, digestOf, newHasher, type Digest } from '../oci/digest.js';
import { uniqueSuffix } from './unique.js';

/** What a blob must turn out to be. */
export interface Expected {
  digest?: Digest;
  size?: number;
}

/** A blob written to ingest and verified, not yet visible in the store. */
export interface StagedBlob {
  digest: Digest;
  size: number;
  /** The ingest file; undefined when the blob already existed. */
  tmpPath: string | undefined;
}

/** An incremental SHA-256 that may run elsewhere (e.g. on a worker thread); chunks are hashed in call order. */
export interface IncrementalHasher {
  /** Adds a chunk; the chunk may be reused once the returned promise settles. */
  update(chunk: Buffer): void | Promise<void>;
  /** The lowercase hex digest of everything added. */
  digest(): Promise<string>;
}

/** Options of BlobStore.stage. */
export interface StageOptions {
  /** Where to hash (default: node:crypto on this thread). */
  hasher?: IncrementalHasher;
  expected?: Expected;
  /** Named in error messages (e.g. 'layer blobs/sha256/ab12...' or 'manifest.json'). */
  what?: string;
  /**
   * Called for each chunk before its asynchronous write; the returned
   * function is called once the write no longer needs the chunk (for input
   * chunks whose memory is reused, e.g. a SlotRing's).
   */
  retain?: (chunk: Buffer) => () => void;
  /** Called with each chunk as it is hashed (e.g. to scan a layer in the same pass). */
  onChunk?: (chunk: Buffer) => void | Promise<void>;
}

/** The blob directory of a store, with ingest and leases. */
export class BlobStore {
  readonly dir: string;
  private readonly ingestDir: string;
  /** This process's lease file, named on first use (node:crypto loads only when needed). */
  private leaseFile: string | undefined;
  /** The background fsync (then close) of each staged blob's ingest file. */
  private readonly syncs = new WeakMap<StagedBlob, Promise<void>>();

  /** `root` is the store root; blobs live in `<root>/blobs/sha256`. */
  constructor(readonly root: string) {
    this.dir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  /** The path of a blob (whether or not it exists). */
  path(digest: Digest): string {
    return join(this.dir, digestHex(digest));
  }

  /**
   * The size of a blob, or undefined when it is absent. One stat, done
   * synchronously: a trip through the thread pool would cost more than it.
   */
  async size(digest: Digest): Promise<number | undefined> {
    return statSync(this.path(digest), { throwIfNoEntry: false })?.size;
  }

  /** A stream of a blob's bytes; NOT_FOUND when absent. */
  open(digest: Digest): Readable {
    const s = createReadStream(this.path(digest), { highWaterMark: 1 << 20 });
    s.on('error', () => undefined);
    return s;
  }

  /**
   * Reads a small blob whole (JSON documents); refuses blobs over `maxBytes`.
   * Synchronous reads: these are a few kB, where the thread pool costs more.
   */
  async read(digest: Digest, maxBytes = 8 << 20): Promise<Buffer> {
    let buf: Buffer;
    try {
      const st = statSync(this.path(digest));
      if (st.size > maxBytes) throw new SlipwayError('INVALID_ARGUMENT', `blob ${digest} is ${st.size} bytes, over the ${maxBytes}-byte limit for a document`);
      buf = readFileSync(this.path(digest));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new SlipwayError('NOT_FOUND', `content ${digest} is missing from the store`, { cause: err });
      throw err;
    }
    return buf;
  }

  /** Reads and parses a JSON blob. */
  async readJson<T>(digest: Digest): Promise<T> {
    return JSON.parse((await this.read(digest)).toString('utf8')) as T;
  }

  /**
   * Records in this process's lease that `digest` is in use by an operation
   * that has not committed its references yet; garbage collection keeps it.
   */
  async protect(digest: Digest): Promise<void> {
    // Synchronous: a few bytes, where the thread pool costs more.
    if (this.leaseFile === undefined) {
      mkdirSync(join(this.root, 'leases'), { recursive: true });
      this.leaseFile = join(this.root, 'leases', uniqueSuffix());
    }
    appendFileSync(this.leaseFile, `${digest}\n`);
  }

  /** Removes this process's lease (call when the operation has committed or failed). */
  async releaseLease(): Promise<void> {
    if (this.leaseFile !== undefined) {
      try { unlinkSync(this.leaseFile); } catch { /* already gone */ }
    }
    this.leaseFile = undefined;
  }

  /**
   * Hashes `input` into an ingest file and verifies it; the blob is not
   * visible yet. The fsync of the ingest file runs in the background (so
   * the disk writes back one blob while the next is staged); `commit`
   * waits for it before the rename.
   */
  async stage(input: AsyncIterable<Buffer> | Buffer, options: StageOptions = {}): Promise<StagedBlob> {
    await mkdir(this.ingestDir, { recursive: true });
    const tmpPath = join(this.ingestDir, uniqueSuffix());
    const fh = await open(tmpPath, 'wx', 0o644);
    const hasher = options.hasher ?? inlineHasher();
    const writer = new WriteBehind(fh, options.retain);
    let hex: string;
    try {
      const chunks: AsyncIterable<Buffer> | Buffer[] = Buffer.isBuffer(input) ? [input] : input;
      for await (const chunk of chunks) {
        await writer.write(chunk);
        await hasher.update(chunk);
        if (options.onChunk) await options.onChunk(chunk);
      }
      await writer.flush();
      hex = await hasher.digest();
    } catch (err) {
      await writer.flush().catch(() => undefined);
      await fh.close().catch(() => undefined);
      await unlink(tmpPath).catch(() => undefined);
      throw err;
    }
    const staged: StagedBlob = { digest: `sha256:${hex}`, size: writer.size, tmpPath };
    const synced = fh.sync().finally(() => fh.close());
    synced.catch(() => undefined);
    this.syncs.set(staged, synced);
    try {
      verify(staged, options);
      await this.protect(staged.digest);
    } catch (err) {
      await this.discard(staged);
      throw err;
    }
    return staged;
  }

  /** Makes a staged blob visible under its digest (an existing blob is success), once its bytes are on disk. */
  async commit(staged: StagedBlob): Promise<void> {
    if (staged.tmpPath === undefined) return;
    await this.syncs.get(staged);
    this.syncs.delete(staged);
    await mkdir(this.dir, { recursive: true });
    await rename(staged.tmpPath, this.path(staged.digest));
    staged.tmpPath = undefined;
  }

  /** Deletes a staged blob's ingest file (a background fsync still running finishes on the unlinked file). */
  async discard(staged: StagedBlob): Promise<void> {
    this.syncs.delete(staged);
    if (staged.tmpPath !== undefined) await unlink(staged.tmpPath).catch(() => undefined);
    staged.tmpPath = undefined;
  }

  /** Stages and commits in one step; returns the digest and size. A document already stored is not written again. */
  async write(input: AsyncIterable<Buffer> | Buffer, options: StageOptions = {}): Promise<{ digest: Digest; size: number }> {
    if (Buffer.isBuffer(input) && !options.onChunk) {
      const digest = digestOf(input);
      if ((await this.size(digest)) === input.length) {
        verify({ digest, size: input.length, tmpPath: undefined }, options);
        await this.protect(digest);
        return { digest, size: input.length };
      }
    }
    const staged = await this.stage(input, options);
    await this.commit(staged);
    return { digest: staged.digest, size: staged.size };
  }

  /** Lists the digests of all blobs in the store. */
  async list(): Promise<Digest[]> {
    const names = await readdir(this.dir).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return [] as string[];
      throw err;
    });
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}` as Digest);
  }
}

function inlineHasher(): IncrementalHasher {
  const h = newHasher();
  return {
    update: (chunk) => { h.update(chunk); },
    digest: async () => h.digest('hex'),
  };
}

/** Bytes of writes kept in flight while the next chunk is hashed. */
const WRITE_BEHIND = 8 << 20;
/** Writeback of a blob being written starts every this many bytes (see WriteBehind.startWriteback). */
const EARLY_SYNC = 64 << 20;

/**
 * Positioned writes that run while the caller hashes the next chunk, with
 * at most WRITE_BEHIND bytes in flight; the first failure is reported by
 * the next write or by flush. Chunks must not be modified after write().
 */
class WriteBehind {
  size = 0;
  private inflight: { p: Promise<unknown>; n: number }[] = [];
  private bytes = 0;
  private failure: unknown;
  private last: Promise<unknown> = Promise.resolve();
  /** Bytes queued since writeback was last started. */
  private sinceSync = 0;
  /** A running early writeback (at most one). */
  private syncing: Promise<void> | undefined;

  constructor(private readonly fh: FileHandle, private readonly retain?: (chunk: Buffer) => () => void) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const release = this.retain?.(chunk);
    const at = this.size;
    // Queued one at a time: concurrent writes to one file contend for its inode lock (kernel time, measured).
    const p = this.last.then(() => this.fh.write(chunk, 0, chunk.length, at)).then(release, (err: unknown) => {
      release?.();
      this.failure ??= err;
    });
    this.last = p;
    this.size += chunk.length;
    this.inflight.push({ p, n: chunk.length });
    this.bytes += chunk.length;
    this.sinceSync += chunk.length;
    if (this.sinceSync >= EARLY_SYNC && this.syncing === undefined) this.startWriteback(p);
    while (this.bytes > WRITE_BEHIND) {
      const first = this.inflight.shift() as { p: Promise<unknown>; n: number };
      await first.p;
      this.bytes -= first.n;
    }
  }

  /**
   * Starts writeback of what is written so far (an fdatasync in the thread
   * pool, once `after` is written) without waiting for it: the disk works
   * while the next bytes are produced, so the fsync before the blob's rename
   * has less left. Failures are left to that fsync.
   */
  private startWriteback(after: Promise<unknown>): void {
    this.sinceSync = 0;
    this.syncing = after.then(() => this.fh.datasync()).catch(() => undefined).finally(() => { this.syncing = undefined; });
  }

  async flush(): Promise<void> {
    await this.syncing;
    await Promise.all(this.inflight.map((w) => w.p));
    this.inflight = [];
    this.bytes = 0;
    if (this.failure !== undefined) throw this.failure;
  }
}

function verify(staged: StagedBlob, options: StageOptions): void {
  const exp = options.expected;
  const what = options.what ?? 'blob';
  if (exp?.size !== undefined && exp.size !== staged.size) {
    throw new SlipwayError('DIGEST_MISMATCH', `${what}: size ${staged.size} does not match the expected ${exp.size} (truncated or corrupt content)`);
  }
  if (exp?.digest !== undefined && exp.digest !== staged.digest) {
    throw new SlipwayError('DIGEST_MISMATCH', `${what}: digest ${staged.digest} does not match the expected ${exp.digest}`);
  }
}

/**
 * The build cache: one small JSON record per step that produced a layer,
 * named by the step's content-addressed cache key, under
 * `<root>/buildcache/`. A record keeps the layer's digest and sizes and when
 * it was made (the history time a cached rebuild reuses, so the image ID
 * stays the same). Records are garbage-collection roots for their layers.
 *
 * A cache hit does not rewrite its record: the build appends one line per
 * hit (`<ms since epoch> <key hex>`) to `<root>/buildcache/usage.log` in a
 * single write when it ends, and list() folds those lines into each
 * record's lastUsedAt and usageCount. remove() compacts the log.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import { digestOf, isDigest, type Digest } from '../oci/digest.js';
import type { BlobStore } from '../store/blobs.js';
import { uniqueSuffix } from '../store/unique.js';

/** A cached step result. */
export interface CacheRecord {
  key: Digest;
  /** The step's history text (`COPY . /app # buildkit`). */
  description: string;
  layer: { digest: Digest; size: number; diskSize: number };
  /** When the layer was made (RFC 3339); reused as its history time. */
  createdAt: string;
  lastUsedAt: string;
  usageCount: number;
}

/** Uses summed per key hex: how many, and the latest (ms since the epoch). */
type Uses = Map<string, { count: number; last: number }>;

/** `r` with its uses from the usage log added. */
function withUses(r: CacheRecord, uses: Uses): CacheRecord {
  const u = uses.get(r.key.slice(7));
  if (u === undefined) return r;
  const last = Math.max(Date.parse(r.lastUsedAt), u.last);
  return { ...r, lastUsedAt: new Date(last).toISOString(), usageCount: r.usageCount + u.count };
}

/** Computes a cache key from its parts (parent key first). */
export function cacheKey(parts: readonly unknown[]): Digest {
  return digestOf(JSON.stringify(parts));
}

/** The cache directory of one store. */
export class BuildCache {
  private readonly dir: string;
  private dirReady = false;
  /** Background record writes (put) not yet finished. */
  private pending: Promise<void>[] = [];
  /** Usage lines of cache hits not yet appended to the log. */
  private usage: string[] = [];

  /** `root` is the store root. */
  constructor(root: string, private readonly blobs: BlobStore) {
    this.dir = join(root, 'buildcache');
  }

  private path(key: Digest): string {
    return join(this.dir, `${key.slice(7)}.json`);
  }

  /** The record for `key` whose layer is still in the store, or undefined (read synchronously: a tiny file). */
  async get(key: Digest): Promise<CacheRecord | undefined> {
    let rec: CacheRecord;
    try {
      rec = JSON.parse(readFileSync(this.path(key), 'utf8')) as CacheRecord;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return undefined;
      throw err;
    }
    if ((await this.blobs.size(rec.layer.digest)) !== rec.layer.size) return undefined;
    return rec;
  }

  /** Writes a record atomically. */
  async put(rec: CacheRecord): Promise<void> {
    if (!this.dirReady) await mkdir(this.dir, { recursive: true });
    this.dirReady = true;
    const tmp = join(this.dir, `.${uniqueSuffix()}`);
    await writeFile(tmp, JSON.stringify(rec));
    await rename(tmp, this.path(rec.key));
  }

  private get usageLog(): string {
    return join(this.dir, 'usage.log');
  }

  /** Marks a record used at `now`; settle() records it (best effort). */
  touch(rec: CacheRecord, now: Date): void {
    this.usage.push(`${now.getTime()} ${rec.key.slice(7)}\n`);
  }

  /** Appends the uses marked by touch() to the usage log in one write. */
  async settle(): Promise<void> {
    const p = this.pending;
    this.pending = [];
    await Promise.all(p);
    if (this.usage.length === 0) return;
    const lines = this.usage.join('');
    this.usage = [];
    try {
      appendFileSync(this.usageLog, lines); // one small append: synchronous is cheaper than the thread pool
    } catch {
      // best effort: a lost use only makes the record look older
    }
  }

  /** Every record, with the uses of the usage log folded in. */
  async list(): Promise<CacheRecord[]> {
    const uses = await this.readUsage();
    return (await this.readRecords()).map((r) => withUses(r, uses));
  }

  /** The usage log summed per key hex: number of uses and the latest (ms). */
  private async readUsage(): Promise<Uses> {
    const uses: Uses = new Map();
    let text: string;
    try {
      text = await readFile(this.usageLog, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return uses;
      throw err;
    }
    for (const line of text.split('\n')) {
      const m = /^(\d+) ([a-f0-9]{64})$/.exec(line);
      if (m === null) continue;
      const at = Number(m[1]);
      const u = uses.get(m[2] ?? '') ?? { count: 0, last: 0 };
      uses.set(m[2] ?? '', { count: u.count + 1, last: Math.max(u.last, at) });
    }
    return uses;
  }

  private async readRecords(): Promise<CacheRecord[]> {
    const names = await readdir(this.dir).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return [] as string[];
      throw err;
    });
    const out: CacheRecord[] = [];
    for (const n of names) {
      if (!/^[a-f0-9]{64}\.json$/.test(n)) continue;
      try {
        out.push(JSON.parse(await readFile(join(this.dir, n), 'utf8')) as CacheRecord);
      } catch {
        // a record being replaced or corrupt: skip it
      }
    }
    return out;
  }

  /** The layer digests the cache keeps alive (garbage-collection roots). */
  async roots(): Promise<Digest[]> {
    return (await this.list()).map((r) => r.layer.digest).filter((d) => isDigest(d));
  }

  /**
   * Deletes the given records, then compacts the usage log: each surviving
   * record is rewritten with its uses folded in and the log is emptied.
   * A use appended by a concurrent build while compacting may be lost.
   */
  async remove(records: readonly CacheRecord[]): Promise<void> {
    for (const r of records) await unlink(this.path(r.key)).catch(() => undefined);
    const uses = await this.readUsage();
    if (uses.size === 0) return;
    for (const r of await this.readRecords()) {
      if (uses.has(r.key.slice(7))) await this.put(withUses(r, uses));
    }
    await unlink(this.usageLog).catch(() => undefined);
  }
}

/**
 * The build cache: one small JSON record per step that produced a layer,
 * named by the step's content-addressed cache key, under
 * `<root>/buildcache/`. A record keeps the layer's digest and sizes and when
 * it was made (the history time a cached rebuild reuses, so the image ID
 * stays the same). Records are garbage-collection roots for their layers.
 */
import { mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isErrno } from '../errors.js';
import { digestOf, isDigest, type Digest } from '../oci/digest.js';
import type { BlobStore } from '../store/blobs.js';

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

/** Computes a cache key from its parts (parent key first). */
export function cacheKey(parts: readonly unknown[]): Digest {
  return digestOf(JSON.stringify(parts));
}

/** The cache directory of one store. */
export class BuildCache {
  private readonly dir: string;
  private dirReady = false;
  /** Background record updates (touch) not yet finished. */
  private pending: Promise<void>[] = [];

  /** `root` is the store root. */
  constructor(root: string, private readonly blobs: BlobStore) {
    this.dir = join(root, 'buildcache');
  }

  private path(key: Digest): string {
    return join(this.dir, `${key.slice(7)}.json`);
  }

  /** The record for `key` whose layer is still in the store, or undefined. */
  async get(key: Digest): Promise<CacheRecord | undefined> {
    let rec: CacheRecord;
    try {
      rec = JSON.parse(await readFile(this.path(key), 'utf8')) as CacheRecord;
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
    const tmp = join(this.dir, `.${process.pid}-${randomBytes(4).toString('hex')}`);
    await writeFile(tmp, JSON.stringify(rec));
    await rename(tmp, this.path(rec.key));
  }

  /**
   * Marks a record used now, in the background (best effort): the build
   * goes on, and settle() waits for every such update.
   */
  touch(rec: CacheRecord, now: Date): void {
    this.pending.push(this.put({ ...rec, lastUsedAt: now.toISOString(), usageCount: rec.usageCount + 1 }).catch(() => undefined));
  }

  /** Waits for the background updates started by touch(). */
  async settle(): Promise<void> {
    const p = this.pending;
    this.pending = [];
    await Promise.all(p);
  }

  /** Every record. */
  async list(): Promise<CacheRecord[]> {
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

  /** Deletes the given records. */
  async remove(records: readonly CacheRecord[]): Promise<void> {
    for (const r of records) await unlink(this.path(r.key)).catch(() => undefined);
  }
}

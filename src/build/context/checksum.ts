/**
 * Content checksums of COPY sources, for cache keys. The digest covers, for
 * every entry of the plan in layer order: its destination path, type, mode
 * bits, symlink or hard-link target, and the SHA-256 of a file's contents.
 * It never covers mtimes, owners (context files are always root) or the
 * implicit directories (they follow from the paths and the image).
 *
 * Only the files in the plan are read: a COPY's checksum never touches the
 * rest of the context. Contents are hashed with large reads; small files
 * synchronously (an async open/read/close costs more than the read itself),
 * big ones with two buffers so the next read overlaps the hashing.
 *
 * A stat cache (StatCache, persisted in a file the engine chooses) maps
 * (path, size, mtime, ctime, inode, device) to the content hash, so a
 * rebuild with nothing changed reads no file. A file is cached only when its
 * ctime is older than the moment we started reading it (minus a tick of the
 * kernel's coarse clock): a later write always moves ctime, so a stale
 * entry can never match.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SlipwayError, isErrno } from '../../errors.js';
import type { EntryStats } from './context.js';
import type { CopyPlan, PlanEntry } from './plan.js';
import { smallHasher } from '../../oci/sha256.js';

const MAGIC = 'slipway-statcache 2';
/** Kernel timestamps come from a coarse clock (≤ 10 ms per tick); stay clear of it. */
const RACY_MS = 20;
const SMALL = 1 << 20;
const CHUNK = 1 << 20;

const ASCII = /^[\x00-\x7f]*$/;

/** A path as the cache file holds it: its UTF-8 bytes as a latin1 string (the file is read as latin1: one byte per char, fast). */
function fileKey(abs: string): string {
  return ASCII.test(abs) ? abs : Buffer.from(abs, 'utf8').toString('latin1');
}

/** The identity of a file's current content, as a string: size, mtime, ctime, inode, device. */
function statKey(st: EntryStats): string {
  return `${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.ino} ${st.dev}`;
}

/**
 * A persistent map from file identity (path + stat) to content SHA-256.
 * On disk, one line per file: `<size> <mtimeMs> <ctimeMs> <ino> <dev> <sha256>\t<path>`,
 * after a first line naming the format; loading it only splits lines (the
 * values stay slices of the file's text, compared as strings).
 */
export class StatCache {
  /** path → "<stat key> <sha256>" */
  private readonly files: Map<string, string>;
  private dirty = false;
  /** Lookups answered from the cache since load. */
  hits = 0;
  /** Lookups that needed a read since load. */
  misses = 0;

  private constructor(readonly file: string | undefined, files: Map<string, string>) {
    this.files = files;
  }

  /** An empty cache that is never saved. */
  static memory(): StatCache {
    return new StatCache(undefined, new Map());
  }

  /** Load `file` (a missing, unreadable or older-format cache is an empty one). */
  static load(file: string): StatCache {
    const files = new Map<string, string>();
    let text = '';
    try {
      text = fs.readFileSync(file, 'latin1');
    } catch {
      // no cache yet: start empty
    }
    if (text.startsWith(`${MAGIC}\n`)) {
      let at = MAGIC.length + 1;
      while (at < text.length) {
        const nl = text.indexOf('\n', at);
        const end = nl < 0 ? text.length : nl;
        const tab = text.indexOf('\t', at);
        if (tab > at && tab < end) files.set(text.slice(tab + 1, end), text.slice(at, tab));
        at = end + 1;
      }
    }
    return new StatCache(file, files);
  }

  /** The cached content hash of `abs` when its stat still matches (counted as a hit or a miss). */
  get(abs: string, st: EntryStats): string | undefined {
    const sha = this.peek(abs, st);
    if (sha === undefined) this.misses++;
    else this.hits++;
    return sha;
  }

  /** get() without counting. */
  peek(abs: string, st: EntryStats): string | undefined {
    const r = this.files.get(fileKey(abs));
    if (r === undefined) return undefined;
    const key = statKey(st);
    return r.length === key.length + 65 && r.startsWith(key) && r.charCodeAt(key.length) === 32 ? r.slice(key.length + 1) : undefined;
  }

  /** Remember a hash read from a file whose stat is `st`, if the file was not racily recent. */
  set(abs: string, st: EntryStats, sha: string, readStartMs: number): void {
    if (st.ctimeMs >= readStartMs - RACY_MS || st.mtimeMs >= readStartMs - RACY_MS) return;
    if (abs.includes('\n')) return;
    this.files.set(fileKey(abs), `${statKey(st)} ${sha}`);
    this.dirty = true;
  }

  /** Write the cache (temp file + rename) when it changed. */
  save(): void {
    if (this.file === undefined || !this.dirty) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const lines = [MAGIC];
      for (const [abs, rec] of this.files) lines.push(`${rec}\t${abs}`);
      fs.writeFileSync(tmp, `${lines.join('\n')}\n`, 'latin1');
      fs.renameSync(tmp, this.file);
      this.dirty = false;
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw new SlipwayError('IO', `cannot write the build context cache ${this.file}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Options of checksumSources. */
export interface ChecksumOptions {
  /** Load the stat cache from this file and save it back afterwards. */
  cacheFile?: string;
  /** Or a cache the caller loads once per build and saves itself. */
  cache?: StatCache;
  /** Hashes of files read in this build already (absolute path → SHA-256 hex), used first. */
  known?: ReadonlyMap<string, string>;
}

/** What checksumSources computed. */
export interface ChecksumResult {
  /** "sha256:<hex>" over the plan (see the file header). */
  digest: string;
  /** Regular files in the plan. */
  files: number;
  /** Bytes actually read and hashed (0 when everything came from the cache). */
  bytesHashed: number;
  /** Files whose hash came from the stat cache. */
  cacheHits: number;
}

function readError(err: unknown, e: PlanEntry): SlipwayError {
  if (err instanceof SlipwayError) return err;
  if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) {
    return new SlipwayError('BUILD', `cannot read "${e.rel}" in the build context: permission denied (make it readable, or exclude it in .dockerignore)`, { cause: err });
  }
  if (isErrno(err, 'ENOENT')) return new SlipwayError('BUILD', `"${e.rel}" disappeared from the build context during the build`, { cause: err });
  return new SlipwayError('BUILD', `cannot read "${e.rel}" in the build context: ${(err as Error).message}`, { cause: err });
}

function changed(e: PlanEntry): SlipwayError {
  return new SlipwayError('BUILD', `"${e.rel}" in the build context changed while the build was reading it`);
}

/** Hash a small file synchronously into a shared buffer. */
function hashSmall(e: PlanEntry, buf: Buffer): string {
  const h = createHash('sha256');
  const fd = fs.openSync(e.abs, 'r');
  try {
    let total = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > e.stats.size) throw changed(e);
      h.update(buf.subarray(0, n));
    }
    if (total !== e.stats.size) throw changed(e);
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Hash a big file with two buffers: read the next chunk while hashing this one. */
async function hashLarge(e: PlanEntry): Promise<string> {
  const h = createHash('sha256');
  const fh = await fs.promises.open(e.abs, 'r');
  try {
    const bufs: Buffer[] = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    const size = e.stats.size;
    let pos = 0;
    let turn = 0;
    let pending = fh.read(bufs[0] as Buffer, 0, Math.min(CHUNK, size), 0);
    while (pos < size) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) throw changed(e);
      pos += bytesRead;
      turn ^= 1;
      if (pos < size) pending = fh.read(bufs[turn] as Buffer, 0, Math.min(CHUNK, size - pos), pos);
      h.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/** The content hash of one file entry, from the cache or by reading it. */
async function contentHash(e: PlanEntry, cache: StatCache, buf: Buffer, counters: { bytes: number }, known?: ReadonlyMap<string, string>): Promise<string> {
  const cached = known?.get(e.abs) ?? cache.get(e.abs, e.stats);
  if (cached !== undefined) return cached;
  const start = Date.now();
  let sha: string;
  try {
    sha = e.stats.size <= SMALL ? hashSmall(e, buf) : await hashLarge(e);
  } catch (err) {
    throw readError(err, e);
  }
  counters.bytes += e.stats.size;
  cache.set(e.abs, e.stats, sha, start);
  return sha;
}

/**
 * Regular-file bytes of a plan whose hash `cache` cannot answer (what
 * checksumSources would read); the hashes it can answer go into `known`.
 */
export function unknownBytes(plan: CopyPlan, cache: StatCache, known: Map<string, string>): number {
  let n = 0;
  for (const e of plan.entries) {
    if (e.type !== 'file' || e.hardlinkTo !== undefined) continue;
    const sha = cache.peek(e.abs, e.stats);
    if (sha === undefined) n += e.stats.size;
    else known.set(e.abs, sha);
  }
  return n;
}

/** Regular-file bytes of a plan. */
export function planBytes(plan: CopyPlan): number {
  let n = 0;
  for (const e of plan.entries) if (e.type === 'file' && e.hardlinkTo === undefined) n += e.stats.size;
  return n;
}

/**
 * The content digest of a COPY plan (see the file header), reading only the
 * plan's files, and only those the stat cache cannot answer for.
 */
export async function checksumSources(plan: CopyPlan, opts: ChecksumOptions = {}): Promise<ChecksumResult> {
  const cache = opts.cache ?? (opts.cacheFile !== undefined ? StatCache.load(opts.cacheFile) : StatCache.memory());
  const hitsBefore = cache.hits;
  const digest = smallHasher();
  const buf = Buffer.allocUnsafe(SMALL);
  const counters = { bytes: 0 };
  let files = 0;
  let sinceYield = 0;
  for (const e of plan.entries) {
    let content = '';
    if (e.type === 'file' && e.hardlinkTo === undefined) {
      files++;
      content = await contentHash(e, cache, buf, counters, opts.known);
      if (++sinceYield >= 512) { sinceYield = 0; await new Promise<void>((r) => setImmediate(r)); }
    }
    const link = e.linkname ?? e.hardlinkTo ?? '';
    digest.update(`${JSON.stringify([e.dest, e.type, e.stats.mode & 0o7777, link, content])}\n`);
  }
  if (opts.cache === undefined) cache.save();
  return { digest: `sha256:${digest.digest()}`, files, bytesHashed: counters.bytes, cacheHits: cache.hits - hitsBefore };
}

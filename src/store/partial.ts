/**
 * Partial downloads: the bytes of a blob download that has not finished,
 * kept in `<root>/ingest/` under a name derived from the expected digest,
 * so that a later download of the same digest (another run of the same
 * pull, or a retry) can resume from them instead of fetching them again.
 *
 *   ingest/<hex>.<pid>-<n>-<clock>.partial   being written by process <pid>
 *   ingest/<hex>.partial                     released: no process writes it
 *
 * A partial file is never a blob: its bytes are unverified until the whole
 * blob has been hashed (the prefix is read back and hashed again when a
 * download resumes). A download adopts a released partial, or one whose
 * writer died, by renaming it to its own name; rename is atomic, so two
 * processes never write the same file (a second downloader of the same
 * digest just starts a file of its own). Garbage collection removes
 * partials nobody writes once they are older than PARTIAL_MAX_AGE_MS.
 */
import { open, readdir, rename, stat, unlink, mkdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import { digestHex, type Digest } from '../oci/digest.js';
import { processAlive } from './lock.js';
import { uniqueSuffix } from './unique.js';

/** How long a partial download nobody writes is kept for a later resume (24 hours). */
export const PARTIAL_MAX_AGE_MS = 24 * 3600 * 1000;

const SUFFIX = '.partial';

/** A partial download owned by this process. */
export interface PartialFile {
  readonly digest: Digest;
  /** The file's current path (this process's name for it). */
  readonly path: string;
  readonly fh: FileHandle;
  /** Bytes already in the file when it was opened (0 for a new download). */
  readonly resumed: number;
}

/** What a partial file's name says: the digest hex and, while written, the writer's pid. */
export function parsePartialName(name: string): { hex: string; pid: number | undefined } | undefined {
  const m = /^([a-f0-9]{64})(?:\.(\d+)-[^.]+)?\.partial$/.exec(name);
  if (!m) return undefined;
  return { hex: m[1] as string, pid: m[2] === undefined ? undefined : Number(m[2]) };
}

/** True when nobody writes the partial file `name` (released, or its writer is gone). */
function unowned(name: string): boolean {
  const p = parsePartialName(name);
  return p !== undefined && (p.pid === undefined || !processAlive(p.pid));
}

/**
 * Opens a partial download of `digest` for this process: the largest
 * partial of that digest nobody writes, adopted (renamed to this process's
 * name), else a new empty file. The caller must end it with
 * releasePartial, or rename it into place itself.
 */
export async function openPartial(root: string, digest: Digest): Promise<PartialFile> {
  const dir = join(root, 'ingest');
  await mkdir(dir, { recursive: true });
  const hex = digestHex(digest);
  const mine = join(dir, `${hex}.${uniqueSuffix()}${SUFFIX}`);
  const names = (await readdir(dir)).filter((n) => n.startsWith(`${hex}.`) && unowned(n));
  const sized = await Promise.all(names.map(async (n) => ({ n, size: (await stat(join(dir, n)).catch(() => undefined))?.size ?? -1 })));
  for (const { n } of sized.filter((s) => s.size > 0).sort((a, b) => b.size - a.size)) {
    try {
      await rename(join(dir, n), mine);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) continue; // another process adopted it first
      throw err;
    }
    const fh = await open(mine, 'r+');
    return { digest, path: mine, fh, resumed: (await fh.stat()).size };
  }
  const fh = await open(mine, 'wx', 0o644);
  return { digest, path: mine, fh, resumed: 0 };
}

/**
 * Ends this process's use of a partial file: closes it, and with `keep`
 * (the bytes may be resumed from) releases it under the digest's name,
 * replacing a smaller released one; otherwise, or when it is empty,
 * deletes it.
 */
export async function releasePartial(p: PartialFile, keep: boolean): Promise<void> {
  await p.fh.close().catch(() => undefined);
  const size = (await stat(p.path).catch(() => undefined))?.size ?? 0;
  const released = join(p.path, '..', `${digestHex(p.digest)}${SUFFIX}`);
  const other = (await stat(released).catch(() => undefined))?.size ?? -1;
  if (keep && size > 0 && size > other) await rename(p.path, released).catch(() => unlink(p.path).catch(() => undefined));
  else await unlink(p.path).catch(() => undefined);
}

/** Truncates a partial file to empty (its bytes turned out unusable for a resume). */
export async function resetPartial(p: PartialFile): Promise<PartialFile> {
  await p.fh.truncate(0);
  return { ...p, resumed: 0 };
}

/**
 * Removes partial downloads in `<root>/ingest` that nobody writes and that
 * were last written more than `maxAgeMs` ago (garbage collection).
 */
export async function cleanPartials(root: string, maxAgeMs = PARTIAL_MAX_AGE_MS, now = Date.now()): Promise<void> {
  const dir = join(root, 'ingest');
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    if (!unowned(n)) continue;
    const st = await stat(join(dir, n)).catch(() => undefined);
    if (st && now - st.mtimeMs > maxAgeMs) await unlink(join(dir, n)).catch(() => undefined);
  }
}

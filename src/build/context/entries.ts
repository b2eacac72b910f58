/**
 * The layer entries of a COPY plan, as BuildKit's COPY layer holds them.
 * What we chose, and why:
 *
 * - Order: depth first, names in byte order, every directory before its
 *   contents — the order of a layer diff walked by containerd/continuity.
 * - Names: relative, no leading "/", directories with a trailing "/"
 *   (like src/layer/tar-directory.ts and Docker's pkg/archive).
 * - Copied objects keep their mode bits (incl. setuid/setgid/sticky) and
 *   mtime (truncated to whole seconds, as containerd's tar writer does; then
 *   clamped to `clampMtime` for SOURCE_DATE_EPOCH). Owner is 0:0 — the
 *   context is sent with uid/gid reset to root — unless `chown` is given.
 *   `chmod` replaces the mode of every copied file and directory (not of
 *   symlinks, whose mode is always 0777), as fsutil's copyFileInfo does.
 * - Hard links between files of one source argument stay hard links: the
 *   first path in layer order carries the data, later ones are link entries
 *   (fsutil re-links by inode; the diff then records a hard link).
 * - Implicit directories — the destination and its missing parents —
 *   are created by fsutil's MkdirAll with mode 0755, owned by the --chown
 *   user or root, at the build time (`now`, clamped). Directories that
 *   already exist in the image are emitted too (containerd's diff writer
 *   includes the parents of every changed path) with the metadata the
 *   engine reports through `existingDir`; their mtime is the build time
 *   when this copy adds a direct child, else unchanged.
 * - Extended attributes are not copied (Node cannot read them without a
 *   helper); sockets are skipped; fifos and devices are copied as headers.
 * - uname/gname stay empty, as in our other layer writers.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { SlipwayError, isErrno } from '../../errors.js';
import type { TarHeaderInput } from '../../layer/index.js';
import { splitDev } from '../../layer/sys.js';
import type { CopyPlan, PlanDir, PlanEntry } from './plan.js';
import { compareNames } from './context.js';

/** Metadata of a directory that exists below the layer being built. */
export interface ExistingDir {
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
}

/** Options of copyEntries. */
export interface CopyEntriesOptions {
  /** --chown, resolved to numbers. Default 0:0. */
  chown?: { uid: number; gid: number };
  /** --chmod as a number (e.g. 0o755). */
  chmod?: number;
  /** SOURCE_DATE_EPOCH: no mtime later than this (seconds). */
  clampMtime?: number;
  /** The build time in seconds for created/touched directories; default now. */
  now?: number;
  /** Metadata of an existing image directory (for implicit dirs whose plan says created: false). */
  existingDir?: (absPath: string) => ExistingDir | undefined;
}

/** One layer entry: a header, and for regular files a function opening the body. */
export interface LayerEntry {
  header: TarHeaderInput;
  body?: () => Readable;
  /** For a regular file: where to read it (a layer writer may read it directly instead of calling body). */
  file?: { abs: string; rel: string };
}

const READ_CHUNK = 1 << 20;

/** The body of a file, failing with a clear error if it changed size since it was planned. */
export function fileBody(abs: string, rel: string, size: number): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(abs, 'r');
    } catch (err) {
      throw bodyError(err, rel);
    }
    try {
      let pos = 0;
      while (pos < size) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) throw new SlipwayError('BUILD', `"${rel}" in the build context shrank while the build was copying it`);
        pos += bytesRead;
        yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
      }
    } catch (err) {
      throw bodyError(err, rel);
    } finally {
      await fh.close();
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

function bodyError(err: unknown, rel: string): SlipwayError {
  if (err instanceof SlipwayError) return err;
  if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) return new SlipwayError('BUILD', `cannot read "${rel}" in the build context: permission denied`, { cause: err });
  if (isErrno(err, 'ENOENT')) return new SlipwayError('BUILD', `"${rel}" disappeared from the build context during the build`, { cause: err });
  return new SlipwayError('BUILD', `cannot read "${rel}" in the build context: ${(err as Error).message}`, { cause: err });
}

interface Ctx { opts: CopyEntriesOptions; uid: number; gid: number; now: number }

function clamp(c: Ctx, mtime: number): number {
  const t = Math.floor(mtime);
  return c.opts.clampMtime !== undefined && t > c.opts.clampMtime ? c.opts.clampMtime : t;
}

function dirEntry(c: Ctx, d: PlanDir): LayerEntry {
  const name = `${d.dest.slice(1)}/`;
  const existing = d.created ? undefined : c.opts.existingDir?.(d.dest);
  if (existing === undefined) return { header: { name, type: 'directory', mode: 0o755, uid: c.uid, gid: c.gid, mtime: clamp(c, c.now) } };
  const mtime = d.touched ? c.now : existing.mtime;
  return { header: { name, type: 'directory', mode: existing.mode & 0o7777, uid: existing.uid, gid: existing.gid, mtime: clamp(c, mtime) } };
}

function copiedEntry(c: Ctx, e: PlanEntry): LayerEntry {
  const st = e.stats;
  const base = { uid: c.uid, gid: c.gid, mtime: clamp(c, st.mtimeMs / 1000) };
  const mode = c.opts.chmod ?? st.mode & 0o7777;
  const name = e.dest.slice(1);
  switch (e.type) {
    case 'directory': return { header: { ...base, name: `${name}/`, type: 'directory', mode } };
    case 'symlink': return { header: { ...base, name, type: 'symlink', mode: 0o777, linkname: e.linkname ?? '' } };
    case 'file':
      if (e.hardlinkTo !== undefined) return { header: { ...base, name, type: 'link', mode, linkname: e.hardlinkTo.slice(1) } };
      return { header: { ...base, name, type: 'file', mode, size: st.size }, body: () => fileBody(e.abs, e.rel, st.size), file: { abs: e.abs, rel: e.rel } };
    default: {
      const { major, minor } = splitDev(st.rdev);
      return { header: { ...base, name, type: e.type, mode, devmajor: major, devminor: minor } };
    }
  }
}

const sortKey = (p: string): string => p.replaceAll('/', '\u0000');

/**
 * The layer entries of `plan` in layer order: implicit directories merged
 * with the copied objects. Bodies are opened lazily, one at a time, by the
 * consumer (e.g. TarWriter.addEntry(header, body())).
 */
export async function* copyEntries(plan: CopyPlan, opts: CopyEntriesOptions = {}): AsyncGenerator<LayerEntry> {
  const c: Ctx = { opts, uid: opts.chown?.uid ?? 0, gid: opts.chown?.gid ?? 0, now: opts.now ?? Math.floor(Date.now() / 1000) };
  let i = 0;
  for (const e of plan.entries) {
    while (i < plan.dirs.length && compareNames(sortKey((plan.dirs[i] as PlanDir).dest), sortKey(e.dest)) < 0) yield dirEntry(c, plan.dirs[i++] as PlanDir);
    yield copiedEntry(c, e);
  }
  while (i < plan.dirs.length) yield dirEntry(c, plan.dirs[i++] as PlanDir);
}

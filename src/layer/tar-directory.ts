/**
 * Stream a directory tree as a tar, the way Docker's pkg/archive does:
 * depth-first with names sorted bytewise in each directory, directories
 * named with a trailing "/", mtimes truncated to seconds, uname/gname left
 * empty, hard links detected by inode (the first path carries the data),
 * symlinks stored as links, sockets skipped.
 */
import { createReadStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { SlipwayError, isSlipwayError } from '../errors.js';
import type { TarHeaderInput } from './tar-format.js';
import { TarWriter } from './tar-writer.js';
import type { TarBody } from './tar-writer.js';
import { listXattrs, splitDev } from './sys.js';

/** Options of tarDirectory. */
export interface TarDirectoryOptions {
  /** The directory to archive. */
  dir: string;
  /** Clamp every mtime to at most this epoch (seconds), for reproducible builds (SOURCE_DATE_EPOCH). */
  clampMtime?: number;
  /** Record extended attributes (needs getfattr from Debian's attr package). Default false. */
  xattrs?: boolean;
  /** Include an entry "./" for `dir` itself (default false, like Docker layer diffs). */
  includeRoot?: boolean;
  /** Skip a path (relative, '/'-separated) when this returns false; a skipped directory is not descended. */
  filter?: (relPath: string, stats: Stats) => boolean;
  /** Adjust each header (e.g. chown, rename); return null to leave the entry out. */
  mapHeader?: (header: TarHeaderInput, relPath: string, stats: Stats) => TarHeaderInput | null;
}

/** Files at most this large are read whole instead of streamed. */
const SMALL_FILE = 1 << 20;

/** Header for one filesystem object, or null for sockets. */
function headerFor(name: string, st: Stats, link: string, opts: TarDirectoryOptions): TarHeaderInput | null {
  let mtime = Math.floor(st.mtimeMs / 1000);
  if (opts.clampMtime !== undefined && mtime > opts.clampMtime) mtime = opts.clampMtime;
  const h: TarHeaderInput = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime };
  if (st.isFile()) {
    h.type = 'file';
    h.size = st.size;
  } else if (st.isDirectory()) {
    h.type = 'directory';
    if (!name.endsWith('/')) h.name = `${name}/`;
  } else if (st.isSymbolicLink()) {
    h.type = 'symlink';
    h.linkname = link;
  } else if (st.isFIFO()) {
    h.type = 'fifo';
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    h.type = st.isCharacterDevice() ? 'char' : 'block';
    const { major, minor } = splitDev(st.rdev);
    h.devmajor = major;
    h.devminor = minor;
  } else {
    return null;
  }
  return h;
}

class DirWalker {
  private readonly seen = new Map<string, string>();

  constructor(private readonly tw: TarWriter, private readonly opts: TarDirectoryOptions) {}

  async walk(abs: string, rel: string): Promise<void> {
    const names = await readdir(abs);
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const childAbs = path.join(abs, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(childAbs);
      if (this.opts.filter && !this.opts.filter(childRel, st)) continue;
      await this.add(childAbs, childRel, st);
      if (st.isDirectory()) await this.walk(childAbs, childRel);
    }
  }

  async add(abs: string, rel: string, st: Stats): Promise<void> {
    const link = st.isSymbolicLink() ? await readlink(abs) : '';
    let h = headerFor(rel, st, link, this.opts);
    if (h === null) return;
    if (this.opts.xattrs) {
      const x = await listXattrs(abs);
      if (Object.keys(x).length > 0) h.xattrs = x;
    }
    if (h.type === 'file' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.seen.get(key);
      if (first !== undefined) {
        h = { ...h, type: 'link', linkname: first, size: 0 };
      } else {
        this.seen.set(key, h.name);
      }
    }
    if (this.opts.mapHeader) {
      h = this.opts.mapHeader(h, rel, st);
      if (h === null) return;
    }
    let body: TarBody | undefined;
    if (h.type === 'file' && (h.size ?? 0) > 0) {
      body = st.size <= SMALL_FILE ? await readFile(abs) : createReadStream(abs, { highWaterMark: 1 << 20 });
    }
    await this.tw.addEntry(h, body);
  }
}

/**
 * Archive `opts.dir` as an uncompressed tar stream. Errors (unreadable
 * files, a file changing size while read) end the stream with a SlipwayError.
 */
export function tarDirectory(opts: TarDirectoryOptions): Readable {
  const tw = new TarWriter();
  const walker = new DirWalker(tw, opts);
  const run = async (): Promise<void> => {
    if (opts.includeRoot) await walker.add(opts.dir, '.', await lstat(opts.dir));
    await walker.walk(opts.dir, '');
    await tw.finish();
  };
  run().catch((err: unknown) => {
    const e = isSlipwayError(err) ? err : new SlipwayError('IO', `archiving ${opts.dir}: ${(err as Error).message}`, { cause: err });
    tw.destroy(e);
  });
  return tw;
}

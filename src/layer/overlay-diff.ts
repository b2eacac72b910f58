/**
 * The diff of an overlayfs upper directory as layer entries, written the way
 * Docker's overlay2 driver (pkg/archive with the overlay whiteout converter)
 * writes them, which is what Docker 20.10's BuildKit commits for a RUN:
 *
 * - the upper tree walked depth-first, names sorted bytewise, directories
 *   with a trailing '/', mtimes in whole seconds, uname/gname empty;
 * - a 0/0 character device NAME (an overlay whiteout) becomes an empty
 *   regular file `.wh.NAME`, mode 0600, keeping the device's owner and mtime;
 * - a directory with `trusted.overlay.opaque=y` is followed by an empty
 *   regular file `DIR/.wh..wh..opq` with the directory's permission bits and
 *   owner and mtime 0;
 * - hard links inside the upper dir are kept as links; `security.capability`
 *   is kept as a PAX xattr; overlay's own `trusted.overlay.*` xattrs are not.
 */
import { createReadStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { childProcess } from '../builtins.js';
import type { Readable } from 'node:stream';
import { SlipwayError, isErrno } from '../errors.js';
import type { TarHeaderInput } from './tar-format.js';
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from './safe-path.js';
import { splitDev } from './sys.js';

/** One member of a diff: its header and, for files with content, a way to open it. */
export interface DiffEntry {
  header: TarHeaderInput;
  body?: () => Readable | Buffer;
}

/** Options of overlayDiff. */
export interface OverlayDiffOptions {
  /** The overlay upper directory (not mounted-through: read it directly). */
  upper: string;
  /** Clamp mtimes to at most this epoch (SOURCE_DATE_EPOCH). */
  clampMtime?: number;
  /** Leave out a path (relative, '/'-separated) and what is below it. */
  exclude?: (rel: string) => boolean;
  /**
   * Runs `getfattr` with these arguments and resolves with its standard
   * output as latin1 (a status 1 is normal: some file has no attributes).
   * Default: a new process.
   */
  getfattr?: (args: string[]) => Promise<string>;
}

const SMALL_FILE = 1 << 20;
const KEPT_XATTRS = /^(security\.capability|trusted\.overlay\.opaque)$/;

/**
 * The xattrs slipway keeps (security.capability) and opaque markers of a
 * whole tree, read with one `getfattr -R` (Debian's attr package).
 */
async function treeXattrs(dir: string, run?: (args: string[]) => Promise<string>): Promise<Map<string, Record<string, Buffer>>> {
  const args = ['-R', '-P', '-h', '-d', '-m', KEPT_XATTRS.source, '-e', 'hex', '--absolute-names', '--', dir];
  const out = run ? await run(args) : await new Promise<string>((resolve, reject) => {
    childProcess().execFile('getfattr', args,
      { encoding: 'latin1', maxBuffer: 256 << 20 }, (err, stdout) => {
        if (err && isErrno(err, 'ENOENT')) reject(new SlipwayError('UNSUPPORTED', 'getfattr is not installed (Debian package attr)', { cause: err }));
        else resolve(stdout); // getfattr exits 1 when some file has no attributes: the output is still complete
      });
  });
  const map = new Map<string, Record<string, Buffer>>();
  let current: Record<string, Buffer> | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      const abs = Buffer.from(line.slice(8), 'latin1').toString('utf8');
      current = {};
      map.set(path.relative(dir, abs).split(path.sep).join('/'), current);
      continue;
    }
    const m = /^([^=]+)=0x([0-9a-f]*)$/.exec(line);
    if (m && current) current[m[1] as string] = Buffer.from(m[2] as string, 'hex');
  }
  return map;
}

function baseHeader(name: string, st: Stats, clamp: number | undefined): TarHeaderInput {
  let mtime = Math.floor(st.mtimeMs / 1000);
  if (clamp !== undefined && mtime > clamp) mtime = clamp;
  return { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime };
}

/** Walks the upper dir, yielding layer entries in Docker's order and format. */
export async function* overlayDiff(opts: OverlayDiffOptions): AsyncGenerator<DiffEntry> {
  const xattrs = await treeXattrs(opts.upper, opts.getfattr);
  const links = new Map<string, string>();
  async function* walk(abs: string, rel: string): AsyncGenerator<DiffEntry> {
    const names = await readdir(abs);
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const n of names) {
      const childRel = rel === '' ? n : `${rel}/${n}`;
      if (opts.exclude?.(childRel)) continue;
      const childAbs = path.join(abs, n);
      const st = await lstat(childAbs);
      yield* entryOf(childAbs, childRel, st);
      if (st.isDirectory()) yield* walk(childAbs, childRel);
    }
  }
  async function* entryOf(abs: string, rel: string, st: Stats): AsyncGenerator<DiffEntry> {
    const h = baseHeader(rel, st, opts.clampMtime);
    const x = xattrs.get(rel) ?? {};
    if (st.isCharacterDevice() && st.rdev === 0) {
      const slash = rel.lastIndexOf('/');
      yield { header: { ...h, name: `${rel.slice(0, slash + 1)}${WHITEOUT_PREFIX}${rel.slice(slash + 1)}`, type: 'file', mode: 0o600, size: 0 } };
      return;
    }
    const kept = Object.fromEntries(Object.entries(x).filter(([k]) => k === 'security.capability'));
    if (Object.keys(kept).length > 0) h.xattrs = kept;
    if (st.isDirectory()) {
      yield { header: { ...h, name: `${rel}/`, type: 'directory' } };
      if (x['trusted.overlay.opaque']?.toString() === 'y') {
        yield { header: { name: `${rel}/${OPAQUE_MARKER}`, type: 'file', mode: st.mode & 0o777, uid: st.uid, gid: st.gid, mtime: 0, size: 0 } };
      }
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(key) : undefined;
      if (first !== undefined) {
        yield { header: { ...h, type: 'link', linkname: first, size: 0 } };
        return;
      }
      if (st.nlink > 1) links.set(key, rel);
      const size = st.size;
      yield { header: { ...h, type: 'file', size }, ...(size > 0 ? { body: () => (size <= SMALL_FILE ? readSmall(abs, size) : createReadStream(abs, { highWaterMark: 1 << 20 })) } : {}) };
    } else if (st.isSymbolicLink()) {
      yield { header: { ...h, type: 'symlink', linkname: await readlink(abs) } };
    } else if (st.isFIFO()) {
      yield { header: { ...h, type: 'fifo' } };
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = splitDev(st.rdev);
      yield { header: { ...h, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: major, devminor: minor } };
    }
    // sockets are skipped, as Docker does
  }
  yield* walk(opts.upper, '');
}

/** A small file's content, read now (the writer asks for it right after the header). */
function readSmall(abs: string, size: number): Readable {
  return createReadStream(abs, { highWaterMark: Math.max(size, 16) });
}

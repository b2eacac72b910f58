/**
 * Extract a layer tar into a directory with OCI/Docker layer semantics
 * (whiteouts, opaque directories, hard links, ownership, modes, mtimes) and
 * without ever writing outside `dest`.
 *
 * Safety: every entry path is cleaned lexically and refused when absolute or
 * escaping (safe-path.ts). Parent directories are walked component by
 * component with lstat: a parent that is a symlink (made by this layer or a
 * lower one) is refused rather than followed, and missing parents are created.
 * An existing final path is removed before creating the new node, and files
 * are opened with O_EXCL|O_NOFOLLOW, so a planted symlink is never written
 * through. (Node has no openat(); a process racing us inside dest could
 * still swap a checked directory. Layers are applied into private dirs.)
 */
import { constants } from 'node:fs';
import { chmod, lchown, link as fsLink, lstat as fsLstat, lutimes, mkdir, open, readdir, rm, symlink as fsSymlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { SlipwayError, isErrno, isSlipwayError } from '../errors.js';
import { readTar } from './tar-reader.js';
import type { TarEntry } from './tar-reader.js';
import type { TarHeader } from './tar-format.js';
import { checkLinkTarget, cleanEntryPath, refuse, whiteoutOf } from './safe-path.js';
import { mkfifo, mknod, setXattr } from './sys.js';

/** Options of applyLayer. */
export interface ApplyLayerOptions {
  /** The uncompressed layer tar. */
  input: Readable;
  /** Directory to apply into (created if missing). */
  dest: string;
  /** Error message prefix (default 'layer tar'). */
  label?: string;
  /** Interpret .wh. entries as whiteouts (default true); false extracts them as plain files. */
  whiteouts?: boolean;
  /** Set uid/gid from the headers (default: only when running as root). */
  chown?: boolean;
  /** Device nodes: create them (default as root), skip them with a warning (default otherwise), or fail. */
  devices?: 'create' | 'skip' | 'error';
  /** Set extended attributes from the headers, best effort with warnings (default true). */
  xattrs?: boolean;
  /**
   * How whiteouts are applied (when `whiteouts` is not false): 'remove' deletes
   * the named paths (default); 'overlay' records them as overlayfs does in a
   * lower directory: `.wh.NAME` becomes a 0/0 character device NAME and
   * `.wh..wh..opq` sets `trusted.overlay.opaque=y` on its directory. Use it
   * to unpack one layer into an empty directory (a snapshot).
   */
  whiteoutFormat?: 'remove' | 'overlay';
}

/** What applyLayer did. */
export interface ApplyResult {
  /** Entries read (whiteouts included). */
  entries: number;
  /** Bytes of the tar stream. */
  tarBytes: number;
  /** Sum of file body sizes. */
  contentBytes: number;
  /** Things skipped or not fully applied (devices skipped, xattrs not set). */
  warnings: string[];
}

interface DirMeta { abs: string; mode: number; mtime: number }

const isRoot = (): boolean => process.getuid?.() === 0;

class Applier {
  readonly warnings: string[] = [];
  private readonly safeDirs = new Set<string>();
  private readonly unpacked = new Set<string>();
  private readonly dirs: DirMeta[] = [];
  private readonly chown: boolean;
  private readonly devices: 'create' | 'skip' | 'error';
  private xattrWarned = false;

  constructor(private readonly dest: string, private readonly label: string, private readonly opts: ApplyLayerOptions) {
    this.chown = opts.chown ?? isRoot();
    this.devices = opts.devices ?? (isRoot() ? 'create' : 'skip');
  }

  /** Resolve `parts` as real directories under dest (creating missing ones if `create`); null when missing. */
  async resolveDir(parts: readonly string[], name: string, create: boolean): Promise<string | null> {
    let abs = this.dest;
    let rel = '';
    for (const part of parts) {
      abs = path.join(abs, part);
      rel = rel === '' ? part : `${rel}/${part}`;
      if (this.safeDirs.has(rel)) continue;
      const st = await fsLstat(abs).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT')) return null;
        throw err;
      });
      if (st === null) {
        if (!create) return null;
        await mkdir(abs, { mode: 0o755 });
      } else if (st.isSymbolicLink()) {
        throw refuse(this.label, name, `path goes through the symlink "${rel}"`);
      } else if (!st.isDirectory()) {
        throw refuse(this.label, name, `parent "${rel}" is not a directory`);
      }
      this.safeDirs.add(rel);
    }
    return abs;
  }

  async apply(entry: TarEntry): Promise<void> {
    const h = entry.header;
    if (h.type === 'other') throw refuse(this.label, h.name, `unsupported entry type '${h.typeflag}'`);
    const parts = cleanEntryPath(h.name, this.label);
    if (parts.length === 0) {
      if (h.type !== 'directory') throw refuse(this.label, h.name, 'the root must be a directory');
      return; // the target directory's own metadata is the caller's business
    }
    const linkTarget = checkLinkTarget(h, parts, this.label);
    if (this.opts.whiteouts !== false && (await this.whiteout(parts, h.name))) return;
    const parent = (await this.resolveDir(parts.slice(0, -1), h.name, true)) as string;
    const abs = path.join(parent, parts[parts.length - 1] as string);
    const merge = await this.clearTarget(abs, h.type === 'directory');
    this.unpacked.add(abs);
    switch (h.type) {
      case 'directory': return this.makeDir(abs, h, parts, merge);
      case 'file': return this.makeFile(abs, h, entry);
      case 'symlink':
        await fsSymlink(h.linkname, abs);
        return this.meta(abs, h, true);
      case 'link': return this.makeLink(abs, h, linkTarget as string[]);
      default: return this.makeSpecial(abs, h);
    }
  }

  /** Handle a whiteout entry; false when the entry is not one. */
  private async whiteout(parts: string[], name: string): Promise<boolean> {
    const wh = whiteoutOf(parts, this.label, name);
    if (wh === null) return false;
    if (wh.kind === 'meta') return true;
    if (this.opts.whiteoutFormat === 'overlay') return this.overlayWhiteout(parts, name, wh);
    const dir = await this.resolveDir(parts.slice(0, -1), name, false);
    if (dir === null) return true;
    if (wh.kind === 'remove') {
      await rm(path.join(dir, wh.name), { recursive: true, force: true });
    } else {
      await this.removeUnpacked(dir);
    }
    this.safeDirs.clear();
    return true;
  }

  /** A whiteout in overlay format: a 0/0 char device, or the opaque xattr on the directory. */
  private async overlayWhiteout(parts: string[], name: string, wh: { kind: 'opaque' } | { kind: 'remove'; name: string }): Promise<boolean> {
    const dir = (await this.resolveDir(parts.slice(0, -1), name, true)) as string;
    if (wh.kind === 'opaque') {
      await setXattr(dir, 'trusted.overlay.opaque', Buffer.from('y'));
      return true;
    }
    const abs = path.join(dir, wh.name);
    await this.clearTarget(abs, false);
    await mknod(abs, 'char', 0, 0, 0);
    this.unpacked.add(abs);
    return true;
  }

  /** Opaque directory: remove everything under `dir` this layer did not create. */
  private async removeUnpacked(dir: string): Promise<void> {
    for (const child of await readdir(dir)) {
      const abs = path.join(dir, child);
      if (!this.unpacked.has(abs)) {
        await rm(abs, { recursive: true, force: true });
      } else if ((await fsLstat(abs)).isDirectory()) {
        await this.removeUnpacked(abs);
      }
    }
  }

  /** Remove whatever is at `abs` unless both are directories (then merge); true when merging. */
  private async clearTarget(abs: string, isDir: boolean): Promise<boolean> {
    const st = await fsLstat(abs).catch(() => null);
    if (st === null) return false;
    if (isDir && st.isDirectory()) return true;
    await rm(abs, { recursive: true, force: true });
    if (st.isDirectory()) this.safeDirs.clear();
    return false;
  }

  private async makeDir(abs: string, h: TarHeader, parts: string[], merge: boolean): Promise<void> {
    if (!merge) await mkdir(abs, { mode: 0o700 });
    this.safeDirs.add(parts.join('/'));
    if (this.chown) await lchown(abs, h.uid, h.gid);
    await this.setXattrs(abs, h);
    // Mode and mtime are set at the end, after the directory's contents exist.
    this.dirs.push({ abs, mode: h.mode, mtime: h.mtime });
  }

  private async makeFile(abs: string, h: TarHeader, entry: TarEntry): Promise<void> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const fh = await open(abs, flags, 0o600);
    try {
      for await (const chunk of entry) {
        let off = 0;
        while (off < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
          off += bytesWritten;
        }
      }
      if (this.chown) await fh.chown(h.uid, h.gid);
      await fh.chmod(h.mode);
      await fh.utimes(h.mtime, h.mtime);
    } finally {
      await fh.close();
    }
    await this.setXattrs(abs, h);
  }

  private async makeLink(abs: string, h: TarHeader, target: string[]): Promise<void> {
    const dir = await this.resolveDir(target.slice(0, -1), h.name, false);
    const targetAbs = dir === null ? null : path.join(dir, target[target.length - 1] as string);
    const st = targetAbs === null ? null : await fsLstat(targetAbs).catch(() => null);
    if (targetAbs === null || st === null) throw refuse(this.label, h.name, `hard link target "${h.linkname}" does not exist`);
    if (st.isDirectory()) throw refuse(this.label, h.name, `hard link target "${h.linkname}" is a directory`);
    await fsLink(targetAbs, abs);
  }

  private async makeSpecial(abs: string, h: TarHeader): Promise<void> {
    if (h.type === 'fifo') {
      await mkfifo(abs, h.mode);
    } else if (this.devices === 'create') {
      await mknod(abs, h.type === 'char' ? 'char' : 'block', h.mode, h.devmajor, h.devminor);
    } else if (this.devices === 'error') {
      throw new SlipwayError('UNSUPPORTED', `${this.label}: entry "${h.name}": device nodes are not allowed here`);
    } else {
      this.unpacked.delete(abs);
      this.warnings.push(`skipped device node "${h.name}"`);
      return;
    }
    await this.meta(abs, h, false);
    await chmod(abs, h.mode);
  }

  /** Owner, xattrs and times of a node that is not a regular file or directory. */
  private async meta(abs: string, h: TarHeader, symlink: boolean): Promise<void> {
    if (this.chown) await lchown(abs, h.uid, h.gid);
    await this.setXattrs(abs, h);
    if (symlink) await lutimes(abs, h.mtime, h.mtime);
    else await utimes(abs, h.mtime, h.mtime);
  }

  private async setXattrs(abs: string, h: TarHeader): Promise<void> {
    if (this.opts.xattrs === false) return;
    for (const [key, value] of Object.entries(h.xattrs)) {
      try {
        await setXattr(abs, key, value);
      } catch (err) {
        if (!this.xattrWarned) this.warnings.push(`extended attributes not set (first: "${key}" on "${h.name}"): ${(err as Error).message}`);
        this.xattrWarned = true;
      }
    }
  }

  /** Directory modes and mtimes, applied after all contents were written. */
  async finishDirs(): Promise<void> {
    for (let i = this.dirs.length - 1; i >= 0; i--) {
      const d = this.dirs[i] as DirMeta;
      try {
        await chmod(d.abs, d.mode);
        await utimes(d.abs, d.mtime, d.mtime);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
  }
}

/**
 * Apply a layer tar to `dest`. Refused entries throw
 * SlipwayError('INVALID_ARCHIVE', 'layer tar: entry "../x": path escapes the target')
 * before anything is written for them; the caller removes the partial result.
 */
export async function applyLayer(opts: ApplyLayerOptions): Promise<ApplyResult> {
  const label = opts.label ?? 'layer tar';
  const dest = path.resolve(opts.dest);
  await mkdir(dest, { recursive: true });
  const applier = new Applier(dest, label, opts);
  let entries = 0;
  let contentBytes = 0;
  let tarBytes = 0;
  const onChunk = (c: Buffer): void => { tarBytes += c.length; };
  for await (const entry of readTar(opts.input, { label, onChunk })) {
    entries++;
    contentBytes += entry.header.size;
    try {
      await applier.apply(entry);
    } catch (err) {
      if (isSlipwayError(err)) throw err;
      throw new SlipwayError('IO', `${label}: entry "${entry.header.name}": ${(err as Error).message}`, { cause: err });
    }
  }
  await applier.finishDirs();
  return { entries, tarBytes, contentBytes, warnings: applier.warnings };
}

/**
 * A build context: a directory seen through its .dockerignore, the way
 * BuildKit's COPY sees the transferred context. Only visible paths exist:
 * a path is visible when it is not ignored, or when it is a directory that
 * holds a visible path (a `!` exception re-including something below an
 * ignored directory). Ignored subtrees that no exception can reach are
 * never listed; ignored files are never opened.
 *
 * Symlinks are resolved inside the context, as BuildKit resolves them inside
 * its snapshot (continuity's fs.RootPath): an absolute target starts again
 * at the context root and `..` never climbs above it. More than 255 links
 * on one path is reported as a symlink loop.
 *
 * File-system calls are synchronous on purpose: a walk is tens of thousands
 * of tiny lstat/readdir calls, where the promise machinery would cost more
 * than the calls themselves.
 */
import fs from 'node:fs';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { SlipwayError, isErrno } from '../../errors.js';
import type { IgnoreMatcher, IgnoreState } from './ignore.js';
import { createIgnoreMatcher } from './ignore.js';

/** What a build keeps of an lstat: the fields it uses, the type tests of fs.Stats. */
export type EntryStats = Pick<Stats, 'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket'
  | 'mode' | 'size' | 'mtimeMs' | 'ctimeMs' | 'ino' | 'dev' | 'nlink' | 'uid' | 'gid' | 'rdev'>;

const S_IFMT = 0o170000;

/**
 * A compact copy of fs.Stats (Node 20's carries four Date objects, ~870
 * bytes each): tens of thousands of them stay alive in a copy plan.
 */
class LiteStats implements EntryStats {
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly rdev: number;

  constructor(st: Stats) {
    this.mode = st.mode;
    this.size = st.size;
    this.mtimeMs = st.mtimeMs;
    this.ctimeMs = st.ctimeMs;
    this.ino = st.ino;
    this.dev = st.dev;
    this.nlink = st.nlink;
    this.uid = st.uid;
    this.gid = st.gid;
    this.rdev = st.rdev;
  }

  isFile(): boolean { return (this.mode & S_IFMT) === 0o100000; }
  isDirectory(): boolean { return (this.mode & S_IFMT) === 0o040000; }
  isSymbolicLink(): boolean { return (this.mode & S_IFMT) === 0o120000; }
  isFIFO(): boolean { return (this.mode & S_IFMT) === 0o010000; }
  isCharacterDevice(): boolean { return (this.mode & S_IFMT) === 0o020000; }
  isBlockDevice(): boolean { return (this.mode & S_IFMT) === 0o060000; }
  isSocket(): boolean { return (this.mode & S_IFMT) === 0o140000; }
}

/** lstat of a path, compacted; undefined when it does not exist. */
function lstatLite(abs: string): EntryStats | undefined {
  const st = fs.lstatSync(abs, { throwIfNoEntry: false });
  return st === undefined ? undefined : new LiteStats(st);
}

/** One visible path of the context. */
export interface ContextEntry {
  /** Context-relative, '/'-separated path ('' for the root). */
  rel: string;
  /** Absolute path on disk. */
  abs: string;
  /** lstat of the path. */
  stats: EntryStats;
}

/** Options of openContext. */
export interface OpenContextOptions {
  /** The context directory. */
  dir: string;
  /** Ignore rules (from loadIgnore); default none. */
  ignore?: IgnoreMatcher;
}

const MAX_LINKS = 255;

/** Byte-wise (UTF-8) order of names, as Go sorts directory entries. */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order equals UTF-8 byte order below the surrogates; compare bytes otherwise.
    if (x < 0xd800 && y < 0xd800) return x - y;
    return Buffer.compare(Buffer.from(a.slice(i)), Buffer.from(b.slice(i)));
  }
  return a.length - b.length;
}

/** Turn a file-system error on `rel` into a BUILD error a user can act on. */
export function contextError(err: unknown, rel: string, doing: string): SlipwayError {
  const where = rel === '' ? 'the build context' : `"${rel}" in the build context`;
  if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) {
    return new SlipwayError('BUILD', `cannot ${doing} ${where}: permission denied (make it readable, or exclude it in .dockerignore)`, { cause: err });
  }
  if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) {
    return new SlipwayError('BUILD', `${where} disappeared while the build was reading it (was the context changed during the build?)`, { cause: err });
  }
  if (isErrno(err, 'ELOOP')) return new SlipwayError('BUILD', `cannot ${doing} ${where}: symlink loop`, { cause: err });
  return new SlipwayError('BUILD', `cannot ${doing} ${where}: ${(err as Error).message}`, { cause: err });
}

/** A context directory filtered by .dockerignore. */
export class BuildContext {
  /** Absolute path of the context directory. */
  readonly dir: string;
  /** The ignore rules in effect. */
  readonly ignore: IgnoreMatcher;
  private readonly states = new Map<string, { excluded: boolean; skipDir: boolean; state: IgnoreState | undefined }>();

  constructor(dir: string, ignore: IgnoreMatcher) {
    this.dir = dir;
    this.ignore = ignore;
  }

  /** Absolute path of a context-relative path. */
  abs(rel: string): string {
    return rel === '' ? this.dir : `${this.dir}/${rel}`;
  }

  /** lstat a context-relative path; undefined when missing. Other errors are BUILD errors. */
  lstatRaw(rel: string): EntryStats | undefined {
    try {
      return lstatLite(this.abs(rel));
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
      throw contextError(err, rel, 'read');
    }
  }

  /** The ignore step of directory `rel` ('' root), computed along its parents and memoised. */
  private stateOf(rel: string): { excluded: boolean; skipDir: boolean; state: IgnoreState | undefined } {
    if (rel === '') return { excluded: false, skipDir: false, state: undefined };
    const memo = this.states.get(rel);
    if (memo !== undefined) return memo;
    const slash = rel.lastIndexOf('/');
    const parent = this.stateOf(slash < 0 ? '' : rel.slice(0, slash));
    const step = this.ignore.step(rel, true, parent.state);
    const out = { excluded: step.excluded, skipDir: step.skipDir || parent.skipDir, state: step.state };
    this.states.set(rel, out);
    return out;
  }

  /** Whether the path itself matches the ignore rules. */
  isIgnored(rel: string): boolean {
    return rel !== '' && this.ignore.matches(rel);
  }

  /**
   * lstat of a visible path, or undefined when it does not exist for COPY
   * (missing, ignored, or an ignored directory with nothing re-included).
   */
  lstat(rel: string): EntryStats | undefined {
    const st = this.lstatRaw(rel);
    if (st === undefined || rel === '') return st;
    if (!this.isIgnored(rel)) return st;
    if (!st.isDirectory() || this.stateOf(rel).skipDir) return undefined;
    const gen = this.walk(rel);
    return gen.next().done === true ? undefined : st;
  }

  /**
   * Resolve `rel` (cleaned, relative) following symlinks inside the context:
   * all components, or all but the last when `followFinal` is false.
   * Returns undefined when a component does not exist for COPY.
   */
  resolve(rel: string, followFinal: boolean): ContextEntry | undefined {
    let pending = rel === '' ? [] : rel.split('/');
    const done: string[] = [];
    let links = 0;
    let stats = this.lstat('');
    while (pending.length > 0) {
      const name = pending.shift() as string;
      if (name === '..') { done.pop(); stats = this.lstat(done.join('/')); continue; }
      if (name === '.' || name === '') continue;
      const cur = [...done, name].join('/');
      stats = this.lstat(cur);
      if (stats === undefined) return undefined;
      if (stats.isSymbolicLink() && (pending.length > 0 || followFinal)) {
        if (++links > MAX_LINKS) throw new SlipwayError('BUILD', `symlink loop in the build context at "${rel}" (too many levels of symbolic links)`);
        const target = this.readlink(cur);
        if (target.startsWith('/')) done.length = 0;
        pending = [...target.split('/'), ...pending];
        stats = this.lstat(done.join('/'));
        continue;
      }
      done.push(name);
    }
    if (stats === undefined) return undefined;
    const r = done.join('/');
    return { rel: r, abs: this.abs(r), stats };
  }

  /** readlink of a context path, as a BUILD error on failure. */
  readlink(rel: string): string {
    try {
      return fs.readlinkSync(this.abs(rel));
    } catch (err) {
      throw contextError(err, rel, 'read the symlink');
    }
  }

  /**
   * The entries of directory `rel` sorted by name, with their types from the
   * directory itself (no lstat); permission errors only matter when `mustRead`.
   */
  private readdir(rel: string, mustRead: boolean): fs.Dirent[] {
    try {
      return fs.readdirSync(this.abs(rel), { withFileTypes: true }).sort((a, b) => compareNames(a.name, b.name));
    } catch (err) {
      // An ignored directory (mustRead false) may also have vanished or been replaced since its parent was listed.
      if (!mustRead && ['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR'].some((code) => isErrno(err, code))) return [];
      throw contextError(err, rel, 'list');
    }
  }

  /**
   * The visible paths strictly below directory `rel`, depth first, names in
   * byte order, each directory before its contents. An ignored directory is
   * yielded only before its first visible descendant. `maxDepth` 1 lists
   * only the directory's own entries.
   */
  *walk(rel: string, maxDepth = Infinity): Generator<ContextEntry> {
    const top = this.stateOf(rel);
    if (top.skipDir) return;
    yield* this.walkDir(rel, top.state, top.excluded, undefined, maxDepth);
  }

  private *walkDir(rel: string, state: IgnoreState | undefined, excluded: boolean, held: Held | undefined, depth: number): Generator<ContextEntry> {
    for (const dirent of this.readdir(rel, !excluded)) {
      const childRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      const isDir = dirent.isDirectory();
      const step = this.ignore.step(childRel, isDir, state);
      // An ignored file, or a directory no exception reaches, is skipped on the directory's word: no lstat.
      if (step.excluded && (!isDir || step.skipDir)) continue;
      const abs = this.abs(childRel);
      if (step.excluded) {
        // A directory an exception may reach into: its lstat waits until something below it is visible.
        const h: Held = { rel: childRel, abs, parent: held, emitted: false };
        if (depth > 1) yield* this.walkDir(childRel, step.state, true, h, depth - 1);
        else if (this.lstat(childRel) !== undefined) yield* release(h);
        continue;
      }
      let st: EntryStats | undefined;
      try {
        st = lstatLite(abs);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw contextError(err, childRel, 'read');
      }
      if (st === undefined || st.isDirectory() !== isDir) continue; // vanished or replaced since the listing
      const entry = { rel: childRel, abs, stats: st };
      yield* release(held);
      yield entry;
      if (isDir && depth > 1) yield* this.walkDir(childRel, step.state, false, undefined, depth - 1);
    }
  }
}

/** An ignored directory held back until a visible descendant shows up. */
/** An ignored directory walked for exceptions, not yet emitted (nor lstat'ed). */
interface Held { rel: string; abs: string; parent: Held | undefined; emitted: boolean }

/** The not yet emitted held directories, outermost first, lstat'ed now that a descendant is visible. */
function release(held: Held | undefined): ContextEntry[] {
  const out: ContextEntry[] = [];
  for (let h = held; h !== undefined && !h.emitted; h = h.parent) {
    h.emitted = true;
    let stats: EntryStats | undefined;
    try {
      stats = lstatLite(h.abs);
    } catch (err) {
      throw contextError(err, h.rel, 'read');
    }
    if (stats === undefined || !stats.isDirectory()) {
      throw new SlipwayError('BUILD', `"${h.rel}" in the build context disappeared while the build was reading it (was the context changed during the build?)`);
    }
    out.unshift({ rel: h.rel, abs: h.abs, stats });
  }
  return out;
}

/** Open a directory as a build context; throws a BUILD error when it is not a readable directory. */
export function openContext(opts: OpenContextOptions): BuildContext {
  const dir = path.resolve(opts.dir);
  let st: Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new SlipwayError('BUILD', `unable to prepare context: path "${opts.dir}" not found`, { cause: err });
    throw contextError(err, '', 'read');
  }
  if (!st.isDirectory()) throw new SlipwayError('BUILD', `unable to prepare context: context must be a directory: ${dir}`);
  return new BuildContext(dir, opts.ignore ?? createIgnoreMatcher([]));
}

/**
 * The copy plan: what a COPY/ADD writes into its layer, in layer order.
 * Built by resolveSources (sources.ts), consumed by copyEntries
 * (entries.ts) and checksumSources (checksum.ts).
 */
import { SlipwayError } from '../../errors.js';
import type { BuildContext, ContextEntry, EntryStats } from './context.js';
import { compareNames } from './context.js';
import type { PatternMatcher } from './patterns.js';
import { withoutTrailingGlob } from './patterns.js';

/** What already exists at an image path below the layer being built. */
export type DestKind = 'dir' | 'file';

/** Entry types a plan can hold. */
export type PlanEntryType = 'file' | 'directory' | 'symlink' | 'fifo' | 'char' | 'block';

/** One context object copied into the image. */
export interface PlanEntry {
  /** Absolute image path, no trailing slash, e.g. "/app/src/index.js". */
  dest: string;
  type: PlanEntryType;
  /** Context-relative source path (the link target's path when a top-level symlink was followed). */
  rel: string;
  /** Absolute source path on disk. */
  abs: string;
  /** lstat of the source. */
  stats: EntryStats;
  /** Symlink target, for type 'symlink'. */
  linkname?: string;
  /** For a hard link to an earlier entry of the same source argument: that entry's dest. */
  hardlinkTo?: string;
  /** Index of the source argument this entry came from. */
  sourceIndex: number;
}

/** A directory the copy needs that is not itself copied from the context (parents, the destination). */
export interface PlanDir {
  /** Absolute image path. */
  dest: string;
  /** True when missing below this layer: BuildKit creates it 0755, owned by --chown or root. */
  created: boolean;
  /** True when this copy adds a direct child (its mtime becomes the build time). */
  touched: boolean;
}

/** What resolveSources returns. */
export interface CopyPlan {
  /** The context the entries come from. */
  context: BuildContext;
  /** The resolved destination path (absolute, cleaned). */
  dest: string;
  /** Copied objects, sorted in layer order (depth first, byte order), last source winning per path. */
  entries: PlanEntry[];
  /** Implicit directories, sorted the same way. */
  dirs: PlanDir[];
  /** Things a user may want to know (wildcards that matched nothing, last-one-wins copies). */
  warnings: string[];
}

function typeOf(st: EntryStats): PlanEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return undefined;
}

const parentOf = (p: string): string => p.slice(0, Math.max(p.lastIndexOf('/'), 1));
const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);
const sortKey = (p: string): string => p.replaceAll('/', '\u0000');

/** Accumulates plan entries for resolveSources. */
export class PlanBuilder {
  readonly warnings: string[] = [];
  private readonly entries = new Map<string, PlanEntry>();
  private readonly targets = new Set<string>();

  constructor(
    private readonly ctx: BuildContext,
    private readonly dest: string,
    private readonly dirSyntax: boolean,
    private readonly destKind: ((p: string) => DestKind | undefined) | undefined,
    private readonly excludes: PatternMatcher | undefined,
  ) {}

  /** What is at `p` now: copied by this plan, needed as a directory by it, or in the image. */
  private kindAt(p: string): DestKind | undefined {
    const e = this.entries.get(p);
    if (e !== undefined) return e.type === 'directory' ? 'dir' : 'file';
    if (this.targets.has(p)) return 'dir';
    return this.destKind?.(p);
  }

  /** Whether a single file source is copied into the destination rather than onto it. */
  destIsDir(): boolean {
    return this.dirSyntax || this.dest === '/' || this.kindAt(this.dest) === 'dir';
  }

  /** The destination receives a directory's contents: it must be (or become) a directory. */
  markDestDir(): void {
    if (this.dest === '/') return;
    if (this.kindAt(this.dest) === 'file') throw new SlipwayError('BUILD', `cannot copy to non-directory: ${this.dest}`);
    this.targets.add(this.dest);
  }

  /** fsutil's copier.exclude for a path relative to the copied directory. */
  excluded(relBelow: string, isDir: boolean): boolean {
    const pm = this.excludes;
    if (pm === undefined || !pm.matches(relBelow)) return false;
    if (!isDir || !pm.hasExclusions) return true;
    const dirSlash = `${relBelow}/`;
    return !pm.patterns.some((p) => p.exclusion && `${withoutTrailingGlob(p)}/`.startsWith(dirSlash));
  }

  /** A non-directory top-level source named `name`. */
  addFile(name: string, e: ContextEntry, index: number): void {
    this.put(this.destIsDir() ? join(this.dest, name) : this.dest, e, index);
  }

  /** An object `relBelow` inside a copied directory (or a --parents root). */
  addBelow(relBelow: string, e: ContextEntry, index: number, asParent: boolean): void {
    if (!asParent && this.excluded(relBelow, e.stats.isDirectory())) return;
    if (this.dest !== '/') this.targets.add(this.dest);
    this.put(join(this.dest, relBelow), e, index);
  }

  private put(target: string, e: ContextEntry, index: number): void {
    const type = typeOf(e.stats);
    if (type === undefined) return; // sockets are not copied
    const had = this.kindAt(target);
    if (type === 'directory' && had === 'file') throw new SlipwayError('BUILD', `cannot copy to non-directory: ${target}`);
    if (type !== 'directory' && had === 'dir') throw new SlipwayError('BUILD', `cannot replace directory ${target} with a file from "${e.rel}"`);
    const entry: PlanEntry = { dest: target, type, rel: e.rel, abs: e.abs, stats: e.stats, sourceIndex: index };
    if (type === 'symlink') entry.linkname = this.ctx.readlink(e.rel);
    this.entries.delete(target);
    this.entries.set(target, entry);
  }

  /** Sort, derive implicit directories and hard links. */
  finish(): CopyPlan {
    const dirs = this.implicitDirs();
    const entries = sortByDest([...this.entries.values()]);
    linkHardlinks(entries);
    return { context: this.ctx, dest: this.dest, entries, dirs, warnings: this.warnings };
  }

  private implicitDirs(): PlanDir[] {
    const dirs = new Map<string, PlanDir>();
    const need = (p: string): void => {
      for (let d = p; d !== '/' && !dirs.has(d) && !this.entries.has(d); d = parentOf(d)) {
        const kind = this.destKind?.(d);
        if (kind === 'file') throw new SlipwayError('BUILD', `cannot copy to ${p}: ${d} is not a directory`);
        dirs.set(d, { dest: d, created: kind !== 'dir', touched: false });
      }
    };
    for (const t of this.targets) need(t);
    for (const e of this.entries.values()) {
      need(parentOf(e.dest));
      const grew = e.type !== 'directory' || this.destKind?.(e.dest) !== 'dir';
      const parent = dirs.get(parentOf(e.dest));
      if (grew && parent !== undefined) parent.touched = true;
    }
    for (const d of dirs.values()) {
      const parent = dirs.get(parentOf(d.dest));
      if (d.created && parent !== undefined) parent.touched = true;
    }
    return sortByDest([...dirs.values()]);
  }
}

/** Sort by destination in layer order ('/' before any other byte), keys computed once. */
function sortByDest<T extends { dest: string }>(items: T[]): T[] {
  const keyed = items.map((item) => ({ item, key: sortKey(item.dest) }));
  keyed.sort((a, b) => compareNames(a.key, b.key));
  return keyed.map((k) => k.item);
}

/** Files sharing an inode within one source argument become hard links to the first (layer order). */
function linkHardlinks(entries: PlanEntry[]): void {
  const first = new Map<string, string>();
  for (const e of entries) {
    if (e.type !== 'file' || e.stats.nlink < 2) continue;
    const key = `${e.sourceIndex}:${e.stats.dev}:${e.stats.ino}`;
    const target = first.get(key);
    if (target === undefined) first.set(key, e.dest);
    else e.hardlinkTo = target;
  }
}

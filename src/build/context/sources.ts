/**
 * COPY/ADD source selection from a build context, with BuildKit's semantics
 * (dockerfile2llb dispatchCopy → FileOp copy with FollowSymlinks,
 * CopyDirContentsOnly, AllowWildcard, AllowEmptyWildcard → fsutil copy):
 *
 * - a source is cleaned as `path.Join("/", src)`: a trailing `/` does not
 *   matter and `..` cannot leave the context (`../x` names the context's
 *   `/x`, exactly as BuildKit does);
 * - every symlink on the source path is followed, the last one too: an
 *   explicit source (or a wildcard match) that is a symlink copies what it
 *   points to, under the link's name; symlinks *inside* a copied directory
 *   are copied as symlinks;
 * - a directory source copies its contents into the destination;
 * - wildcards (`*`, `?`, `[...]`, Go filepath.Match per path component)
 *   match visible files and directories; a wildcard matching nothing copies
 *   nothing (BuildKit's AllowEmptyWildcard; a warning is returned);
 * - the destination is relative to WORKDIR; it is a directory when it ends
 *   in `/` (or is `.`), or when it already is a directory (in the image, per
 *   `destKind`, or made by an earlier source of the same COPY); otherwise a
 *   single file is written to that name. Several source arguments need a
 *   directory destination (the error Docker prints); a wildcard matching
 *   several files onto a file destination copies them in turn, the last one
 *   winning, as BuildKit does (a warning is returned);
 * - `--parents`: the path after an optional `/./` pivot (else the whole
 *   source) is kept below the destination, with its parent directories;
 * - `--exclude`: patterns (Docker's ignore syntax) matched against paths
 *   relative to the copied directory; a wildcard match itself is matched by
 *   its name.
 */
import path from 'node:path';
import { SlipwayError } from '../../errors.js';
import { containsWildcards, goMatch } from './go-match.js';
import { PatternMatcher, cleanPath } from './patterns.js';
import type { BuildContext, ContextEntry, EntryStats } from './context.js';
import { PlanBuilder } from './plan.js';
import type { CopyPlan, DestKind } from './plan.js';

/** Options of resolveSources. */
export interface ResolveSourcesOptions {
  /** Source arguments as written (after variable expansion), context-relative. */
  sources: readonly string[];
  /** Destination argument as written. */
  dest: string;
  /** The stage's WORKDIR (absolute); default '/'. */
  workdir?: string;
  /** COPY --parents. */
  parents?: boolean;
  /** COPY --exclude patterns. */
  excludes?: readonly string[];
  /** What exists at an absolute image path below this layer (symlinks followed); default: nothing. */
  destKind?: (absPath: string) => DestKind | undefined;
  /** Instruction name for messages; default 'COPY'. */
  instruction?: string;
  /** Sources are plain paths, `[`, `*` and `?` included (a downloaded `ADD <url>` file, which BuildKit copies by its name). */
  literal?: boolean;
}

/** A COPY source that does not exist in the context (missing, or excluded by .dockerignore). */
export class SourceNotFoundError extends SlipwayError {
  /** The source as written. */
  readonly source: string;
  /** The cleaned context path, e.g. "/missing". */
  readonly path: string;
  /** True when the path exists on disk but .dockerignore excludes it. */
  readonly ignored: boolean;

  constructor(source: string, p: string, ignored: boolean) {
    super('BUILD', `"${p}": not found${ignored ? ' (excluded by .dockerignore)' : ''}`);
    this.source = source;
    this.path = p;
    this.ignored = ignored;
  }
}

interface Match { name: string; entry: ContextEntry; wild?: boolean }

function notFound(ctx: BuildContext, source: string, rel: string): SourceNotFoundError {
  const ignored = rel !== '' && ctx.lstatRaw(rel) !== undefined;
  return new SourceNotFoundError(source, `/${rel}`, ignored);
}

/** Resolve a match, following its final symlink. */
function follow(ctx: BuildContext, source: string, rel: string, name: string): Match {
  const entry = ctx.resolve(rel, true);
  if (entry === undefined) throw notFound(ctx, source, rel);
  return { name, entry };
}

/** fsutil's splitWildcards + resolveWildcards on the visible context. */
function wildcardMatches(ctx: BuildContext, source: string, rel: string): Match[] {
  const parts = rel.split('/');
  const first = parts.findIndex((p) => containsWildcards(p));
  const baseRel = parts.slice(0, first).join('/');
  const pattern = parts.slice(first).join('/');
  const base = ctx.resolve(baseRel, true);
  if (base === undefined || !base.stats.isDirectory()) return [];
  const out: Match[] = [];
  let skip: string | undefined;
  for (const e of ctx.walk(base.rel, parts.length - first)) {
    const below = base.rel === '' ? e.rel : e.rel.slice(base.rel.length + 1);
    if (skip !== undefined && below.startsWith(skip)) continue;
    if (!goMatch(pattern, below)) continue;
    if (e.stats.isDirectory()) skip = `${below}/`;
    const shown = baseRel === '' ? below : `${baseRel}/${below}`;
    out.push({ ...follow(ctx, source, e.rel, path.posix.basename(shown)), wild: true });
  }
  return out;
}

/** A source taken as a plain path, wildcard characters and all. */
function literalMatch(ctx: BuildContext, source: string): Match {
  const rel = cleanPath(`/${source}`).slice(1);
  return follow(ctx, source, rel, path.posix.basename(rel));
}

/** The matches of one source argument (without --parents). */
function sourceMatches(ctx: BuildContext, source: string, warnings: string[]): Match[] {
  const rel = cleanPath(`/${source}`).slice(1);
  if (!containsWildcards(rel)) return [follow(ctx, source, rel, path.posix.basename(rel))];
  const found = wildcardMatches(ctx, source, rel);
  if (found.length === 0) warnings.push(`no files in the build context match "${source}"; nothing was copied for it`);
  return found;
}

/** fsutil prefix.Match: 'full' (the path or a parent matches), 'partial' (a parent of a possible match), 'none'. */
export function prefixMatch(pattern: readonly string[], parts: readonly string[], pi = 0, si = 0): 'full' | 'partial' | 'none' {
  if (pi === pattern.length) return 'full';
  if (si === parts.length) return pattern.slice(pi).every((p) => p === '**') ? 'full' : 'partial';
  if (pattern[pi] === '**') {
    const a = prefixMatch(pattern, parts, pi + 1, si);
    if (a === 'full') return a;
    const b = prefixMatch(pattern, parts, pi, si + 1);
    return b === 'none' ? a : b === 'full' ? b : 'partial';
  }
  return goMatch(pattern[pi] as string, parts[si] as string) ? prefixMatch(pattern, parts, pi + 1, si + 1) : 'none';
}

/** COPY --parents for one source: walk the pivot directory, keeping what matches the pattern. */
function addParents(b: PlanBuilder, ctx: BuildContext, source: string, index: number): void {
  const pivot = source.indexOf('/./');
  const parentArg = pivot < 0 ? '/' : source.slice(0, pivot);
  const pattern = cleanPath(`/${pivot < 0 ? source : source.slice(pivot + 3)}`).slice(1);
  const rootRel = cleanPath(`/${parentArg}`).slice(1);
  const root = ctx.resolve(rootRel, true);
  if (!containsWildcards(rootRel) && !containsWildcards(pattern)) {
    const full = [rootRel, pattern].filter((s) => s !== '').join('/');
    if (root === undefined || ctx.resolve(full, false) === undefined) throw notFound(ctx, source, full);
  }
  if (root === undefined || !root.stats.isDirectory()) return;
  const pat = pattern === '' ? [] : pattern.split('/');
  const held: ContextEntry[] = [];
  for (const e of ctx.walk(root.rel)) {
    const below = root.rel === '' ? e.rel : e.rel.slice(root.rel.length + 1);
    const m = prefixMatch(pat, below.split('/'));
    while (held.length > 0 && !below.startsWith(`${relBelow(root, held[held.length - 1] as ContextEntry)}/`)) held.pop();
    if (m === 'none') continue;
    if (m === 'partial') { if (e.stats.isDirectory()) held.push(e); continue; }
    for (const h of held.splice(0)) b.addBelow(relBelow(root, h), h, index, true);
    b.addBelow(below, e, index, false);
  }
}

function relBelow(root: ContextEntry, e: ContextEntry): string {
  return root.rel === '' ? e.rel : e.rel.slice(root.rel.length + 1);
}

/** Resolve the destination argument against WORKDIR. */
export function resolveDest(dest: string, workdir = '/'): { path: string; dirSyntax: boolean } {
  const dirSyntax = dest === '' || dest === '.' || dest.endsWith('/');
  const abs = dest.startsWith('/') ? dest : `${workdir === '' ? '/' : workdir}/${dest}`;
  return { path: cleanPath(abs.startsWith('/') ? abs : `/${abs}`), dirSyntax };
}

/**
 * Select what a COPY/ADD copies from the context and where it lands.
 * Throws SourceNotFoundError for a missing or ignored explicit source, and
 * BUILD errors for a file destination with several sources, conflicts
 * between files and directories, unreadable paths and symlink loops.
 */
export function resolveSources(ctx: BuildContext, opts: ResolveSourcesOptions): CopyPlan {
  const instruction = opts.instruction ?? 'COPY';
  const dest = resolveDest(opts.dest, opts.workdir);
  if (opts.sources.length > 1 && !dest.dirSyntax) {
    throw new SlipwayError('BUILD', `When using ${instruction} with more than one source file, the destination must be a directory and end with a /`);
  }
  const excludes = opts.excludes !== undefined && opts.excludes.length > 0 ? compileExcludes(opts.excludes) : undefined;
  const b = new PlanBuilder(ctx, dest.path, dest.dirSyntax || opts.parents === true, opts.destKind, excludes);
  opts.sources.forEach((source, index) => {
    if (opts.parents === true) { addParents(b, ctx, source, index); return; }
    const matches = opts.literal === true ? [literalMatch(ctx, source)] : sourceMatches(ctx, source, b.warnings);
    const fileDest = !b.destIsDir() && matches.filter((m) => !m.entry.stats.isDirectory()).length > 1;
    if (fileDest) b.warnings.push(`"${source}" matches ${matches.length} paths but the destination "${opts.dest}" is not a directory: each is copied onto it in turn and the last one wins (end the destination with / to copy them all)`);
    for (const m of matches) addMatch(b, ctx, m, index);
  });
  return b.finish();
}

function addMatch(b: PlanBuilder, ctx: BuildContext, m: Match, index: number): void {
  const st: EntryStats = m.entry.stats;
  if (m.wild === true && b.excluded(m.name, st.isDirectory())) return;
  if (!st.isDirectory()) {
    b.addFile(m.name, m.entry, index);
    return;
  }
  b.markDestDir();
  for (const e of ctx.walk(m.entry.rel)) b.addBelow(relBelow(m.entry, e), e, index, false);
}

function compileExcludes(patterns: readonly string[]): PatternMatcher {
  try {
    return new PatternMatcher(patterns);
  } catch (err) {
    throw new SlipwayError('BUILD', `invalid --exclude pattern: ${(err as Error).message}`, { cause: err });
  }
}


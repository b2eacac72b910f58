/**
 * .dockerignore: reading the file as BuildKit does and matching context paths
 * the way BuildKit's file transfer (tonistiigi/fsutil's filtered walk) does.
 *
 * Which file: BuildKit's dockerfile frontend first reads
 * `<Dockerfile path>.dockerignore` (e.g. `build/app.Dockerfile.dockerignore`
 * beside `build/app.Dockerfile`); when that file exists it replaces the
 * context's `.dockerignore` entirely (patterns are not merged). With the
 * Dockerfile on stdin only the context's `.dockerignore` applies.
 *
 * Reading (BuildKit dockerignore.ReadAll): a UTF-8 BOM is dropped; a line
 * whose first character is `#` is a comment (`  #x` is a pattern); each line
 * is trimmed; blank lines skipped; after an optional `!` (itself trimmed
 * after) the pattern is `filepath.Clean`ed and a leading `/` removed.
 *
 * What COPY sees: an ignored path does not exist for COPY/ADD, including the
 * Dockerfile and the .dockerignore file themselves when listed. A directory
 * that is ignored but holds a re-included (`!`) path is visible with only
 * those children (fsutil emits the parents of an included path).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SlipwayError, isErrno } from '../../errors.js';
import { PatternMatcher, cleanPath, withoutTrailingGlob } from './patterns.js';
import type { MatchInfo } from './patterns.js';

/** Parse the text of a .dockerignore file into patterns (BuildKit's ReadAll). */
export function parseIgnoreFile(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    if (line.startsWith('#')) return;
    let p = line.trim();
    if (p === '') return;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    out.push(invert ? `!${p}` : p);
  });
  return out;
}

/** The walk state of one directory (its per-pattern parent results). */
export interface IgnoreState {
  readonly info: MatchInfo;
}

/** Result of matching one path during a walk. */
export interface IgnoreStep {
  /** The path itself is excluded. */
  excluded: boolean;
  /** For an excluded directory: nothing below can be re-included, so the walk may skip it. */
  skipDir: boolean;
  /** State to pass when matching this directory's children. */
  state: IgnoreState;
}

/** Matches context paths against .dockerignore patterns. */
export interface IgnoreMatcher {
  /** The patterns in effect, as read. */
  readonly patterns: readonly string[];
  /** Absolute path of the file they came from, or undefined when there is none. */
  readonly source: string | undefined;
  /** Whether the context-relative, '/'-separated `relPath` is excluded (a parent's match counts). */
  matches(relPath: string, isDir?: boolean): boolean;
  /** One walk step: match `relPath` given its parent directory's state (undefined at the top). */
  step(relPath: string, isDir: boolean, parent: IgnoreState | undefined): IgnoreStep;
}

const PATTERN_CHARS = /[*[\]?^\\]/;

class Matcher implements IgnoreMatcher {
  private readonly pm: PatternMatcher;
  /** fsutil's onlyPrefixExcludeExceptions: every exception is a plain path (maybe ending in a glob). */
  private readonly prefixExceptions: boolean;

  constructor(readonly patterns: readonly string[], readonly source: string | undefined) {
    this.pm = new PatternMatcher(patterns);
    this.prefixExceptions = this.pm.patterns.every((p) => !p.exclusion || !PATTERN_CHARS.test(withoutTrailingGlob(p)));
  }

  matches(relPath: string): boolean {
    return this.pm.matches(relPath);
  }

  step(relPath: string, isDir: boolean, parent: IgnoreState | undefined): IgnoreStep {
    if (this.pm.patterns.length === 0) return { excluded: false, skipDir: false, state: EMPTY };
    const { matched, info } = this.pm.matchWithParent(relPath, parent?.info ?? []);
    let skipDir = false;
    if (matched && isDir && this.prefixExceptions) skipDir = !this.exceptionBelow(relPath);
    return { excluded: matched, skipDir, state: { info } };
  }

  /** Whether some exception pattern names a path at or below `dir`. */
  private exceptionBelow(dir: string): boolean {
    if (!this.pm.hasExclusions) return false;
    const dirSlash = `${dir}/`;
    return this.pm.patterns.some((p) => p.exclusion && `${withoutTrailingGlob(p)}/`.startsWith(dirSlash));
  }
}

const EMPTY: IgnoreState = { info: [] };

/** Build a matcher from patterns (as read from a file); throws a BUILD error naming `source` for a bad pattern. */
export function createIgnoreMatcher(patterns: readonly string[], source?: string): IgnoreMatcher {
  try {
    return new Matcher(patterns, source);
  } catch (err) {
    const where = source ?? '.dockerignore';
    const what = err instanceof Error ? err.message : String(err);
    throw new SlipwayError('BUILD', `${where}: invalid pattern: ${what}`, { cause: err });
  }
}

function readIfFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EISDIR')) return undefined;
    throw new SlipwayError('BUILD', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Options of loadIgnore. */
export interface LoadIgnoreOptions {
  /** The build context directory. */
  contextDir: string;
  /** The Dockerfile's path on disk, when it is a file (not stdin). */
  dockerfilePath?: string;
}

/**
 * Load the ignore rules of a build: `<dockerfilePath>.dockerignore` when it
 * exists, else `<contextDir>/.dockerignore`, else no patterns.
 */
export function loadIgnore(opts: LoadIgnoreOptions): IgnoreMatcher {
  const candidates: string[] = [];
  if (opts.dockerfilePath !== undefined) candidates.push(`${path.resolve(opts.dockerfilePath)}.dockerignore`);
  candidates.push(path.join(path.resolve(opts.contextDir), '.dockerignore'));
  for (const file of candidates) {
    const text = readIfFile(file);
    if (text !== undefined) return createIgnoreMatcher(parseIgnoreFile(text), file);
  }
  return createIgnoreMatcher([], undefined);
}

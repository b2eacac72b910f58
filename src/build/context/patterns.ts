/**
 * Our port of moby/patternmatcher, the matcher behind .dockerignore and
 * COPY --exclude (no dependency). Semantics kept exactly:
 *
 * - each pattern is trimmed and `filepath.Clean`ed; a leading `!` makes it an
 *   exception (a lone `!` is an error); the pattern is syntax-checked with Go's
 *   filepath.Match;
 * - a pattern compiles to an anchored regular expression: `*` is `[^/]*`,
 *   `?` is `[^/]`, `**` is any number of path components (`**` at the end
 *   matches everything below), `[...]` classes pass through, `\x` escapes;
 *   patterns without wildcards compare exactly, `dir/**` by prefix, `**\/x`
 *   by suffix (the same fast paths as Go, same results);
 * - patterns apply in order: a later match flips the result, so the last
 *   matching pattern wins; a pattern also matches a path when it matches one
 *   of the path's parent directories (MatchesUsingParentResults, the function
 *   fsutil's walker uses: per pattern, a parent's match is inherited).
 */
import { BadPatternError, validatePattern } from './go-match.js';

/** One compiled pattern. */
export interface Pattern {
  /** The cleaned pattern without the leading `!`. */
  readonly text: string;
  /** True for `!` exceptions. */
  readonly exclusion: boolean;
  /** Whether `path` (slash-separated, relative, cleaned) matches this pattern alone. */
  match(path: string): boolean;
}

/** Per-pattern match results of a directory, passed down to its children. */
export type MatchInfo = readonly boolean[];

/** Go's path.Clean for slash-separated paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

const REGEX_SPECIAL = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);
const JS_SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);

/** A literal character as JS regex source ('u' mode: only syntax characters may be escaped). */
function lit(c: string, inClass: boolean): string {
  if (inClass && c === '-') return '\\-';
  return JS_SYNTAX.has(c) ? `\\${c}` : c;
}

type Kind = 'exact' | 'prefix' | 'suffix' | 'regexp';

/** The regex source for a `**` at index i (pointing at the first '*'); returns the new index. */
function doubleStar(cs: string[], i: number, kind: Kind): { i: number; src: string; kind: Kind } {
  i++;
  if (cs[i + 1] === '/') i++;
  if (i + 1 >= cs.length) return kind === 'exact' ? { i, src: '', kind: 'prefix' } : { i, src: '.*', kind: 'regexp' };
  return { i, src: '(?:.*/)?', kind: 'regexp' };
}

/** patternmatcher's compile(): the match type and, for regexp, the JS RegExp. */
function compile(pattern: string): { kind: Kind; re?: RegExp } {
  const cs = Array.from(pattern);
  let re = '^';
  let kind: Kind = 'exact';
  let inClass = false;
  for (let i = 0, iter = 0; i < cs.length; i++, iter++) {
    const ch = cs[i] as string;
    if (inClass) {
      if (ch === ']') { inClass = false; re += ']'; }
      else if (ch === '\\' && i + 1 < cs.length) re += lit(cs[++i] as string, true);
      else if (ch === '^' || ch === '-') re += ch;
      else re += lit(ch, true);
      continue;
    }
    if (ch === '*' && cs[i + 1] === '*') {
      const d = doubleStar(cs, i, kind);
      i = d.i;
      re += d.src;
      kind = iter === 0 ? 'suffix' : d.kind;
    } else if (ch === '*') {
      re += '[^/]*';
      kind = 'regexp';
    } else if (ch === '?') {
      re += '[^/]';
      kind = 'regexp';
    } else if (REGEX_SPECIAL.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      if (i + 1 < cs.length) { re += lit(cs[++i] as string, false); kind = 'regexp'; }
      else re += '\\\\';
    } else if (ch === '[') {
      inClass = true;
      re += '[';
      kind = 'regexp';
    } else if (ch === ']') {
      re += '\\]';
      kind = 'regexp';
    } else {
      re += lit(ch, false);
    }
  }
  if (kind !== 'regexp') return { kind };
  try {
    return { kind, re: new RegExp(`${re}$`, 'su') };
  } catch {
    throw new BadPatternError(pattern);
  }
}

class CompiledPattern implements Pattern {
  private readonly kind: Kind;
  private readonly re: RegExp | undefined;

  constructor(readonly text: string, readonly exclusion: boolean) {
    const c = compile(text);
    this.kind = c.kind;
    this.re = c.re;
  }

  match(path: string): boolean {
    switch (this.kind) {
      case 'exact': return path === this.text;
      case 'prefix': return path.startsWith(this.text.slice(0, -2));
      case 'suffix': {
        const suffix = this.text.slice(2);
        if (path.endsWith(suffix)) return true;
        return suffix.startsWith('/') && path === suffix.slice(1);
      }
      default: return this.re?.test(path) ?? false;
    }
  }
}

/** A list of patterns with Docker's ordered, exception-aware matching. */
export class PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** True when some pattern is a `!` exception. */
  readonly hasExclusions: boolean;

  /** Compile `patterns`; throws Error('illegal exclusion pattern: "!"') or BadPatternError. */
  constructor(patterns: readonly string[]) {
    const out: Pattern[] = [];
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
      }
      validatePattern(p);
      out.push(new CompiledPattern(p, exclusion));
    }
    this.patterns = out;
    this.hasExclusions = out.some((p) => p.exclusion);
  }

  /**
   * MatchesUsingParentResults: whether `file` is matched, given the per-pattern
   * results of its parent directory (undefined: compute parents from scratch).
   */
  matchWithParent(file: string, parent?: MatchInfo): { matched: boolean; info: MatchInfo } {
    let matched = false;
    const info: boolean[] = new Array<boolean>(this.patterns.length).fill(false);
    this.patterns.forEach((pattern, i) => {
      let match = parent?.[i] ?? false;
      if (!match) {
        if (pattern.exclusion !== matched) return;
        match = pattern.match(file);
        if (!match && parent === undefined) match = parentMatches(pattern, file);
      }
      info[i] = match;
      if (match) matched = !pattern.exclusion;
    });
    return { matched, info };
  }

  /** Whether `file` (slash-separated, relative) is matched, parents included. */
  matches(file: string): boolean {
    const clean = cleanPath(file);
    if (clean === '.') return false;
    return this.matchWithParent(clean).matched;
  }
}

function parentMatches(pattern: Pattern, file: string): boolean {
  const slash = file.lastIndexOf('/');
  if (slash <= 0) return false;
  const dirs = file.slice(0, slash).split('/');
  for (let i = 1; i <= dirs.length; i++) {
    if (pattern.match(dirs.slice(0, i).join('/'))) return true;
  }
  return false;
}

/** fsutil's patternWithoutTrailingGlob: the pattern without a trailing `/**` or `/*`. */
export function withoutTrailingGlob(p: Pattern): string {
  let s = p.text;
  if (s.endsWith('/**')) s = s.slice(0, -3);
  if (s.endsWith('/*')) s = s.slice(0, -2);
  return s;
}

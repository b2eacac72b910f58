/**
 * Go's `path/filepath.Match` (Unix flavour), ported for COPY/ADD wildcards
 * and for validating .dockerignore patterns exactly as Docker does:
 * `*` (any run of non-'/' characters), `?` (one non-'/' character),
 * `[...]` / `[^...]` classes with ranges, and `\` escapes. A malformed
 * pattern throws BadPatternError (Go's ErrBadPattern), also when the name
 * fails to match early, because Go checks the rest of the pattern.
 *
 * Strings are handled as arrays of code points, which equals Go's
 * byte-wise matching for valid UTF-8 (`?` and classes consume one rune).
 */

/** Go's filepath.ErrBadPattern. */
export class BadPatternError extends Error {
  constructor(readonly pattern: string) {
    super('syntax error in pattern');
    this.name = 'BadPatternError';
  }
}

type Chars = string[];

/** Split off the leading stars and the chunk up to the next unbracketed star. */
function scanChunk(p: Chars, start: number): { star: boolean; chunk: Chars; next: number } {
  let i = start;
  let star = false;
  while (i < p.length && p[i] === '*') { i++; star = true; }
  const from = i;
  let inRange = false;
  for (; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') { if (i + 1 < p.length) i++; }
    else if (c === '[') inRange = true;
    else if (c === ']') inRange = false;
    else if (c === '*' && !inRange) break;
  }
  return { star, chunk: p.slice(from, i), next: i };
}

/** One (possibly escaped) class character; throws on a malformed class. */
function getEsc(chunk: Chars, i: number, pattern: string): { r: string; next: number } {
  let c = chunk[i];
  if (c === undefined || c === '-' || c === ']') throw new BadPatternError(pattern);
  if (c === '\\') {
    i++;
    c = chunk[i];
    if (c === undefined) throw new BadPatternError(pattern);
  }
  if (i + 1 >= chunk.length) throw new BadPatternError(pattern);
  return { r: c, next: i + 1 };
}

const cp = (s: string): number => s.codePointAt(0) ?? 0;

/** Match one class `[...]` at chunk[i] (just after '['); returns the index after ']' and whether r is in it. */
function matchClass(chunk: Chars, i: number, r: string | undefined, pattern: string): { next: number; inClass: boolean } {
  let negated = false;
  if (chunk[i] === '^') { negated = true; i++; }
  let match = false;
  let nrange = 0;
  for (;;) {
    if (chunk[i] === ']' && nrange > 0) { i++; break; }
    const lo = getEsc(chunk, i, pattern);
    let hi = lo;
    if (chunk[lo.next] === '-') hi = getEsc(chunk, lo.next + 1, pattern);
    i = hi.next;
    if (r !== undefined && cp(lo.r) <= cp(r) && cp(r) <= cp(hi.r)) match = true;
    nrange++;
  }
  return { next: i, inClass: match !== negated };
}

/** Match `chunk` at the start of s[si..]; returns the rest index or -1. Validates the whole chunk. */
function matchChunk(chunk: Chars, s: Chars, si: number, pattern: string): number {
  let failed = false;
  let i = 0;
  while (i < chunk.length) {
    if (!failed && si >= s.length) failed = true;
    const c = chunk[i];
    if (c === '[') {
      const r = failed ? undefined : s[si++];
      const m = matchClass(chunk, i + 1, r, pattern);
      i = m.next;
      if (!m.inClass) failed = true;
      continue;
    }
    if (c === '?') {
      if (!failed) { if (s[si] === '/') failed = true; si++; }
      i++;
      continue;
    }
    let lit = c;
    if (c === '\\') {
      i++;
      lit = chunk[i];
      if (lit === undefined) throw new BadPatternError(pattern);
    }
    if (!failed) { if (lit !== s[si]) failed = true; si++; }
    i++;
  }
  return failed ? -1 : si;
}

/** Check the rest of the pattern for syntax errors (Go does this before reporting "no match"). */
function validateRest(p: Chars, pi: number, pattern: string): void {
  while (pi < p.length) {
    const { chunk, next } = scanChunk(p, pi);
    pi = next;
    matchChunk(chunk, [], 0, pattern);
  }
}

/** Go filepath.Match(pattern, name) on Unix. Throws BadPatternError for a malformed pattern. */
export function goMatch(pattern: string, name: string): boolean {
  const p = Array.from(pattern);
  const s = Array.from(name);
  let pi = 0;
  let si = 0;
  outer: while (pi < p.length) {
    const { star, chunk, next } = scanChunk(p, pi);
    pi = next;
    if (star && chunk.length === 0) return !s.slice(si).includes('/');
    const t = matchChunk(chunk, s, si, pattern);
    if (t >= 0 && (t === s.length || pi < p.length)) { si = t; continue; }
    if (star) {
      for (let k = si; k < s.length && s[k] !== '/'; k++) {
        const t2 = matchChunk(chunk, s, k + 1, pattern);
        if (t2 >= 0) {
          if (pi === p.length && t2 !== s.length) continue;
          si = t2;
          continue outer;
        }
      }
    }
    validateRest(p, pi, pattern);
    return false;
  }
  return si === s.length;
}

/** Throws BadPatternError when `pattern` is malformed (Docker calls Match(p, ".") for this). */
export function validatePattern(pattern: string): void {
  goMatch(pattern, '.');
}

/** True when `name` holds an unescaped `*`, `?` or `[` (BuildKit's containsWildcards). */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/**
 * Small text helpers that follow Go's definitions (unicode.IsSpace and the
 * regexp classes BuildKit uses), so that splitting matches BuildKit's.
 */

const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;

/** Go's unicode.IsSpace for one character. */
export function isGoSpace(ch: string): boolean {
  if (ch === ' ' || ch === '\t') return true;
  if (ch > ' ' && ch < '\x85') return false;
  return GO_SPACE.test(ch);
}

/** strings.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isGoSpace(s[i] ?? '')) i++;
  return i === 0 ? s : s.slice(i);
}

/** strings.TrimSpace with Go's notion of space. */
export function trimSpace(s: string): string {
  let end = s.length;
  while (end > 0 && isGoSpace(s[end - 1] ?? '')) end--;
  return trimLeftSpace(s.slice(0, end));
}

/** BuildKit's reWhitespace: `[\t\v\f\r ]+`. */
export const WHITESPACE_RUN = /[\t\v\f\r ]+/;

/** regexp.Split(s, n) with `[\t\v\f\r ]+`: at most `n` parts (n < 0: all). */
export function splitWhitespace(s: string, n: number): string[] {
  const re = /[\t\v\f\r ]+/g;
  const out: string[] = [];
  let last = 0;
  let m: RegExpExecArray | null;
  while ((n < 0 || out.length < n - 1) && (m = re.exec(s)) !== null) {
    out.push(s.slice(last, m.index));
    last = m.index + m[0].length;
  }
  out.push(s.slice(last));
  return out;
}

/**
 * Shell wildcard patterns of `${V#p}`, `${V%p}` and `${V/p/r}`, converted to
 * regular expressions as BuildKit's lexer does (`*`, `?`, `\` escapes; no
 * bracket expressions).
 */
import { UnpositionedError } from './errors.js';

/** Converts a shell wildcard pattern (`*`, `?`, `\` escapes; no brackets) to a RegExp. */
export function patternToRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i] ?? '';
    if (tok === '*') {
      out += star;
      continue;
    }
    if (tok === '?') {
      out += '.';
      continue;
    }
    if (tok === '\\') {
      const n = chars[i + 1];
      if (n === '}' || n === '/') continue;
      i++;
      if (n !== '*' && n !== '?' && n !== '\\') {
        throw new UnpositionedError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ''}'`);
      }
      out += '\\' + n;
      continue;
    }
    out += '[]{}.+()|^$/'.includes(tok) ? '\\' + tok : tok;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

/** Removes the shortest (or longest, `greedy`) prefix matching `pattern`. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

function reversePattern(pattern: string): string {
  const p = Array.from(pattern);
  const out = new Array<string>(p.length);
  const last = p.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = p[i] ?? '';
    const o = last - i;
    if (tok === '\\' && i !== last) {
      out[o - 1] = tok;
      out[o] = p[i + 1] ?? '';
      i += 2;
    } else {
      out[o] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverse(s: string): string {
  return Array.from(s).reverse().join('');
}

/** Removes the shortest (or longest, `greedy`) suffix matching `pattern`. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}


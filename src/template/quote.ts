/**
 * Go's strconv quoting and unquoting (Quote, QuoteToASCII, QuoteRune,
 * Unquote) and unicode.IsPrint, for %q and template string literals.
 */

const PRINT_RE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp <= 0x7f) return cp >= 0x20 && cp < 0x7f; // ASCII: no regex (its first use compiles the Unicode tables)
  return PRINT_RE.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function escapeRune(cp: number, quote: number, asciiOnly: boolean): string {
  if (cp === quote || cp === 0x5c) return '\\' + String.fromCodePoint(cp);
  if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) return String.fromCodePoint(cp);
  switch (cp) {
    case 7: return '\\a';
    case 8: return '\\b';
    case 12: return '\\f';
    case 10: return '\\n';
    case 13: return '\\r';
    case 9: return '\\t';
    case 11: return '\\v';
    default: break;
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + hex(cp, 2);
  if (cp >= 0xd800 && cp < 0xe000) return '\\ufffd';
  if (cp < 0x10000) return '\\u' + hex(cp, 4);
  return '\\U' + hex(cp, 8);
}

/** Go's strconv.Quote (or QuoteToASCII when asciiOnly). */
export function goQuote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0) ?? 0, 0x22, asciiOnly);
  return out + '"';
}

/** Go's strconv.QuoteRune (or QuoteRuneToASCII). */
export function goQuoteRune(cp: number, asciiOnly = false): string {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) cp = 0xfffd;
  return "'" + escapeRune(cp, 0x27, asciiOnly) + "'";
}

/** Go's strconv.CanBackquote. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp === 0x60 || cp === 0xfeff) return false;
    if ((cp < 0x20 && cp !== 9) || cp === 0x7f) return false;
  }
  return true;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\',
};

/** Decode one escape at s[i] (just after the backslash); returns [text, nextIndex] or undefined. */
function unescape(s: string, i: number, quote: string): [string, number] | undefined {
  const c = s[i];
  if (c === undefined) return undefined;
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return [simple, i + 1];
  if (c === quote) return [c, i + 1];
  const widths: Record<string, number> = { x: 2, u: 4, U: 8 };
  const w = widths[c];
  if (w !== undefined) {
    const digits = s.slice(i + 1, i + 1 + w);
    if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== w) return undefined;
    const v = parseInt(digits, 16);
    if (c === 'x') return [String.fromCharCode(v), i + 1 + w];
    if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return undefined;
    return [String.fromCodePoint(v), i + 1 + w];
  }
  const oct = s.slice(i, i + 3);
  if (/^[0-7]{3}$/.test(oct)) {
    const v = parseInt(oct, 8);
    return v > 255 ? undefined : [String.fromCharCode(v), i + 3];
  }
  return undefined;
}

/** Go's strconv.Unquote for "..." and `...` literals; throws Error('invalid syntax'). */
export function goUnquote(lit: string): string {
  const q = lit[0];
  if (lit.length < 2 || lit[lit.length - 1] !== q) throw new Error('invalid syntax');
  const body = lit.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) throw new Error('invalid syntax');
    return body.replace(/\r/g, '');
  }
  if (q !== '"') throw new Error('invalid syntax');
  let out = '';
  for (let i = 0; i < body.length;) {
    const c = body[i] ?? '';
    if (c === '"' || c === '\n') throw new Error('invalid syntax');
    if (c !== '\\') { out += c; i++; continue; }
    const r = unescape(body, i + 1, '"');
    if (r === undefined) throw new Error('invalid syntax');
    out += r[0];
    i = r[1];
  }
  return out;
}

/** Decode a Go character literal ('a', '\n', '\u00e9') to its code point; throws on bad syntax. */
export function goUnquoteChar(lit: string): number {
  const body = lit.slice(1, -1);
  if (lit[lit.length - 1] !== "'" || body.length === 0) throw new Error('invalid syntax');
  if (body[0] !== '\\') {
    const cp = body.codePointAt(0) ?? 0;
    if (String.fromCodePoint(cp) !== body) throw new Error(`malformed character constant: ${lit}`);
    return cp;
  }
  const r = unescape(body, 1, "'");
  if (r === undefined) throw new Error('invalid syntax');
  if (r[1] !== body.length) throw new Error(`malformed character constant: ${lit}`);
  return r[0].codePointAt(0) ?? 0;
}

/**
 * Number literals of templates (Go's parse.newNumber): integers in Go
 * syntax (0x, 0o, 0b, leading-0 octal, underscores), floats (incl. hex
 * floats), and character constants.
 */
import type { NumberInfo } from './nodes.js';
import { goUnquoteChar } from './quote.js';

const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

function stripUnderscores(body: string, prefixed: boolean): string | undefined {
  if (!body.includes('_')) return body;
  if (!prefixed && !/^\d/.test(body)) return undefined;
  if (/__|_$/.test(body) || (!prefixed && body.startsWith('_'))) return undefined;
  return body.replace(/_/g, '');
}

/** Go's strconv.ParseInt/ParseUint with base 0, unbounded; undefined when the syntax is bad. */
function parseGoInt(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') { neg = s[0] === '-'; s = s.slice(1); }
  let base = 10;
  let prefixed = false;
  if (/^0[xX]/.test(s)) { base = 16; s = s.slice(2); prefixed = true; }
  else if (/^0[oO]/.test(s)) { base = 8; s = s.slice(2); prefixed = true; }
  else if (/^0[bB]/.test(s)) { base = 2; s = s.slice(2); prefixed = true; }
  else if (/^0./.test(s)) { base = 8; s = s.slice(1); prefixed = true; }
  const body = stripUnderscores(s, prefixed);
  if (body === undefined || body === '') return undefined;
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^\d+$/, 16: /^[0-9a-fA-F]+$/ }[base as 2 | 8 | 10 | 16];
  if (!valid.test(body)) return undefined;
  let v = 0n;
  for (const ch of body) v = v * BigInt(base) + BigInt(parseInt(ch, base));
  return neg ? -v : v;
}

function parseHexFloat(s: string): number | undefined {
  const m = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(s);
  if (!m || (m[2] === '' && m[3] === '')) return undefined;
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  const mant = parseInt((intPart + frac) || '0', 16);
  const v = mant * 2 ** (Number(m[4]) - 4 * frac.length);
  return m[1] === '-' ? -v : v;
}

/** Go's strconv.ParseFloat for the syntax the lexer lets through. */
function parseGoFloat(text: string): number | undefined {
  const s = text.replace(/_/g, '');
  if (/^[+-]?0[xX]/.test(s)) return parseHexFloat(s);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

function fromChar(text: string): NumberInfo | string {
  try {
    const cp = goUnquoteChar(text);
    return { isInt: true, isFloat: true, int: BigInt(cp), float: cp, text };
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Parse a number token; returns the literal's description, or Go's error
 * text when it is not a valid number.
 */
export function parseNumber(text: string, isChar: boolean, isComplex: boolean): NumberInfo | string {
  if (isChar) return fromChar(text);
  if (isComplex || text.endsWith('i')) return `complex numbers are not supported: ${JSON.stringify(text)}`;
  const n: NumberInfo = { isInt: false, isFloat: false, int: 0n, float: 0, text };
  const i = parseGoInt(text);
  if (i !== undefined && i >= -INT64_MAX - 1n && i <= UINT64_MAX) {
    n.isFloat = true;
    n.float = Number(i);
    if (i <= INT64_MAX) { n.isInt = true; n.int = i; }
    return n;
  }
  const f = parseGoFloat(text);
  if (f !== undefined) {
    if (!/[.eEpP]/.test(text)) return `integer overflow: ${JSON.stringify(text)}`;
    n.isFloat = true;
    n.float = f;
    if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) { n.isInt = true; n.int = BigInt(f); }
    return n;
  }
  return `illegal number syntax: ${JSON.stringify(text)}`;
}

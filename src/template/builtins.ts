/**
 * Go text/template's builtin functions (funcs.go): and or not len index
 * slice print printf println eq ne lt le gt ge html js urlquery call.
 */
import { formatValue, sprint, sprintln } from './fmt.js';
import { FuncError, type FuncMap } from './func-types.js';
import { isPrint } from './quote.js';
import { sprintf } from './sprintf.js';
import {
  GoNilMap, GoNilSlice, compareGoStrings, goLen, goTypeName, isNilValue, isTrue, kindOf, numberOf,
} from './values.js';

type BasicKind = 'bool' | 'int' | 'float' | 'string' | 'invalid';

function basicKind(v: unknown): BasicKind {
  const k = kindOf(v);
  return k === 'bool' || k === 'int' || k === 'float' || k === 'string' ? k : 'invalid';
}

function indexArg(index: unknown, cap: number): number {
  const k = kindOf(index);
  if (k === 'invalid') throw new FuncError('cannot index slice/array with nil');
  if (k !== 'int') throw new FuncError(`cannot index slice/array with type ${goTypeName(index)}`);
  const x = Number(index as number | bigint);
  if (x < 0 || x > cap) throw new FuncError(`index out of range: ${x}`);
  return x;
}

function indexOne(item: unknown, index: unknown): unknown {
  if (item === null) throw new FuncError('index of nil pointer');
  const k = kindOf(item);
  if (k === 'string' || k === 'slice') {
    const isStr = k === 'string';
    const seq = isStr ? Buffer.from(item as string, 'utf8') : item instanceof GoNilSlice ? [] : (item as unknown[]);
    const x = indexArg(index, seq.length);
    if (x >= seq.length) throw new FuncError(`reflect: ${isStr ? 'string' : 'slice'} index out of range`);
    return seq[x];
  }
  if (k === 'map') {
    if (index === undefined) throw new FuncError('value is nil; should be of type string');
    if (kindOf(index) !== 'string') throw new FuncError(`value has type ${goTypeName(index)}; should be string`);
    if (item instanceof GoNilMap) return undefined;
    const obj = item as Record<string, unknown>;
    return Object.hasOwn(obj, index as string) ? obj[index as string] : undefined;
  }
  throw new FuncError(`can't index item of type ${goTypeName(item)}`);
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined) throw new FuncError('index of untyped nil');
  for (const i of indexes) item = indexOne(item, i);
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined) throw new FuncError('slice of untyped nil');
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`);
  const k = kindOf(item);
  let len: number;
  if (k === 'string') {
    if (indexes.length === 3) throw new FuncError('cannot 3-index slice a string');
    len = goLen(item) ?? 0;
  } else if (k === 'slice') len = goLen(item) ?? 0;
  else throw new FuncError(`can't slice item of type ${goTypeName(item)}`);
  const idx = [0, len, len];
  indexes.forEach((v, i) => { idx[i] = indexArg(v, len); });
  const [a = 0, b = 0, c = 0] = idx;
  if (a > b) throw new FuncError(`invalid slice index: ${a} > ${b}`);
  if (indexes.length === 3 && b > c) throw new FuncError(`invalid slice index: ${b} > ${c}`);
  if (k === 'string') return Buffer.from(item as string, 'utf8').subarray(a, b).toString('utf8');
  return item instanceof GoNilSlice ? item : (item as unknown[]).slice(a, b);
}

function length(item: unknown): number {
  if (item === null) throw new FuncError('len of nil pointer');
  const n = goLen(item);
  if (item === undefined) throw new FuncError('reflect: call of reflect.Value.Type on zero Value');
  if (n === undefined) throw new FuncError(`len of type ${goTypeName(item)}`);
  return n;
}

function basicEqual(k: BasicKind, a: unknown, b: unknown): boolean {
  if (k === 'int') return BigInt(a as number | bigint) === BigInt(b as number | bigint);
  if (k === 'float') return numberOf(a) === numberOf(b);
  return a === b;
}

function eq(arg1: unknown, ...arg2: unknown[]): boolean {
  if (arg2.length === 0) throw new FuncError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of arg2) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (arg1 !== undefined && arg !== undefined) throw new FuncError('incompatible types for comparison');
    } else if (k1 !== 'invalid') truth = basicEqual(k1, arg1, arg);
    else truth = compareNonBasic(arg1, arg);
    if (truth) return true;
  }
  return false;
}

function compareNonBasic(a: unknown, b: unknown): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const nilA = a === undefined || isNilValue(a);
  const nilB = b === undefined || isNilValue(b);
  if (ka !== kb && a !== undefined && b !== undefined && !(nilA && nilB)) {
    throw new FuncError(`non-comparable types ${formatValue(a)}: ${goTypeName(a)}, ${goTypeName(b)}: ${formatValue(b)}`);
  }
  if (nilA || nilB) return nilA === nilB;
  if (kb === 'slice' || kb === 'map' || kb === 'func') {
    throw new FuncError(`non-comparable type ${formatValue(b)}: ${goTypeName(b)}`);
  }
  return formatValue(a) === formatValue(b);
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k2 === 'invalid') throw new FuncError('invalid type for comparison');
  if (k1 !== k2) throw new FuncError('incompatible types for comparison');
  switch (k1) {
    case 'bool': throw new FuncError('invalid type for comparison');
    case 'float': return numberOf(a) < numberOf(b);
    case 'int': return BigInt(a as number | bigint) < BigInt(b as number | bigint);
    default: return compareGoStrings(a as string, b as string) < 0;
  }
}

function le(a: unknown, b: unknown): boolean {
  return lt(a, b) || eq(a, b);
}

/** Go's evalArgs: one string as-is, else Sprint of the printable values. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === undefined ? '<no value>' : a)));
}

const HTML_ESC: Record<string, string> = {
  '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;',
};

/** Go's template.HTMLEscapeString. */
export function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => HTML_ESC[c] ?? c);
}

const JS_ESC: Record<string, string> = {
  '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D',
};

/** Go's template.JSEscapeString. */
export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    const simple = JS_ESC[ch];
    if (simple !== undefined) out += simple;
    else if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
    else if (cp >= 0x80 && !isPrint(cp)) out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
    else out += ch;
  }
  return out;
}

/** Go's url.QueryEscape. */
export function urlQueryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function call(fn: unknown, ...args: unknown[]): unknown {
  if (fn === undefined || fn === null) throw new FuncError('call of nil');
  if (typeof fn !== 'function') throw new FuncError(`non-function of type ${goTypeName(fn)}`);
  return (fn as (...a: unknown[]) => unknown)(...args);
}

/** The builtin function table. */
export const BUILTINS: FuncMap = {
  and: { params: ['value'], variadic: 'value', fn: () => undefined, special: 'and' },
  or: { params: ['value'], variadic: 'value', fn: () => undefined, special: 'or' },
  not: { params: ['value'], fn: (a) => !isTrue(a) },
  len: { params: ['value'], fn: length },
  index: { params: ['value'], variadic: 'value', fn: index },
  slice: { params: ['value'], variadic: 'value', fn: slice },
  call: { params: ['value'], variadic: 'value', fn: call },
  print: { params: [], variadic: 'any', fn: (...a) => sprint(a) },
  printf: { params: ['string'], variadic: 'any', fn: (f, ...a) => sprintf(f as string, a) },
  println: { params: [], variadic: 'any', fn: (...a) => sprintln(a) },
  html: { params: [], variadic: 'any', fn: (...a) => htmlEscape(evalArgs(a)) },
  js: { params: [], variadic: 'any', fn: (...a) => jsEscape(evalArgs(a)) },
  urlquery: { params: [], variadic: 'any', fn: (...a) => urlQueryEscape(evalArgs(a)) },
  eq: { params: ['value'], variadic: 'value', fn: eq },
  ne: { params: ['value', 'value'], fn: (a, b) => !eq(a, b) },
  lt: { params: ['value', 'value'], fn: lt },
  le: { params: ['value', 'value'], fn: le },
  gt: { params: ['value', 'value'], fn: (a, b) => !le(a, b) },
  ge: { params: ['value', 'value'], fn: (a, b) => !lt(a, b) },
};

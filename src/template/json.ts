/**
 * Go's encoding/json output for template values: structs keep field order,
 * plain objects keep insertion order (callers build them in Go's order),
 * nil maps/slices and null are `null`, the empty struct is `{}`.
 */
import { FuncError } from './func-types.js';
import {
  GoEmptyStruct, GoFloat, GoNilMap, GoNilSlice, GoRawJSON, GoStruct, GoTime,
} from './values.js';

/** Options of goJSON. */
export interface GoJSONOptions {
  /** Escape <, > and & as \u003c, \u003e, \u0026 (json.Marshal's default). */
  escapeHTML?: boolean;
  /** Sort the keys of plain objects (Go's order for maps). */
  sortKeys?: boolean;
}

function encodeString(s: string, escapeHTML: boolean): string {
  let out = JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  if (escapeHTML) out = out.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return out;
}

function encodeNumber(n: number): string {
  if (!Number.isFinite(n)) throw new FuncError(`json: unsupported value: ${n}`);
  return Object.is(n, -0) ? '-0' : JSON.stringify(n);
}

function encodeObject(entries: Array<[string, unknown]>, opts: GoJSONOptions): string {
  const parts: string[] = [];
  for (const [k, v] of entries) {
    if (v === undefined || typeof v === 'function') continue;
    parts.push(encodeString(k, opts.escapeHTML ?? false) + ':' + encode(v, opts));
  }
  return '{' + parts.join(',') + '}';
}

function encode(v: unknown, opts: GoJSONOptions): string {
  if (v === undefined || v === null) return 'null';
  switch (typeof v) {
    case 'string': return encodeString(v, opts.escapeHTML ?? false);
    case 'number': return encodeNumber(v);
    case 'bigint': return v.toString();
    case 'boolean': return v ? 'true' : 'false';
    case 'function': throw new FuncError('json: unsupported type: func()');
    default: break;
  }
  if (v instanceof GoNilMap || v instanceof GoNilSlice) return 'null';
  if (v instanceof GoEmptyStruct) return '{}';
  if (v instanceof GoFloat) return encodeNumber(v.value);
  if (v instanceof GoTime) return encodeString(v.rfc3339, opts.escapeHTML ?? false);
  if (v instanceof GoRawJSON) return v.text();
  if (v instanceof GoStruct) {
    if (v.json !== undefined) return encode(v.json, opts);
    return encodeObject(Object.entries(v.fields), opts);
  }
  if (Array.isArray(v)) return '[' + v.map((e) => encode(e === undefined ? null : e, opts)).join(',') + ']';
  const entries = Object.entries(v as Record<string, unknown>);
  if (opts.sortKeys) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return encodeObject(entries, opts);
}

/**
 * Serialise a template value as Go's json encoder would (compact, no
 * trailing newline). Throws FuncError for values Go cannot encode (NaN, Inf).
 */
export function goJSON(v: unknown, opts: GoJSONOptions = {}): string {
  return encode(v, opts);
}

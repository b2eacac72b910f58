/**
 * Docker's `--filter key=value` flags (docker/cli opts.FilterOpt and moby
 * api/types/filters): parsing, key validation, boolean filters, label
 * matching, and the `until=`/`since=` timestamps of moby api/types/time.
 */
import { SlipwayError } from '../errors.js';
import { goQuote, parseGoDurationNanos } from './humanize.js';

/** Filter key -> its distinct values, in the order first given. */
export type Filters = Map<string, string[]>;

/**
 * Parses repeated `--filter` values as docker/cli does: an empty value is
 * ignored; the key is trimmed and lower-cased, the value trimmed; repeated
 * values collapse (Docker keeps a set). A value without '=' throws USAGE
 * `invalid argument "x" for "-f, --filter" flag: bad format of filter (expected name=value)`.
 */
export function parseFilters(flags: readonly string[], prev?: Filters): Filters {
  const out: Filters = new Map(prev === undefined ? [] : [...prev].map(([k, v]) => [k, [...v]]));
  for (const flag of flags) {
    if (flag === '') continue;
    const eq = flag.indexOf('=');
    if (eq < 0) {
      throw new SlipwayError('USAGE', `invalid argument "${flag}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    }
    const key = flag.slice(0, eq).trim().toLowerCase();
    const value = flag.slice(eq + 1).trim();
    const values = out.get(key) ?? [];
    if (!values.includes(value)) values.push(value);
    out.set(key, values);
  }
  return out;
}

/**
 * Args.Validate: throws INVALID_ARGUMENT `Invalid filter 'KEY'` for the first
 * key (in the order given) that is not allowed. Docker's CLI shows it after
 * `Error response from daemon: `.
 */
export function checkFilterKeys(filters: Filters, allowed: Iterable<string>): void {
  const ok = new Set(allowed);
  for (const key of filters.keys()) {
    if (!ok.has(key)) throw new SlipwayError('INVALID_ARGUMENT', `Invalid filter '${key}'`);
  }
}

/**
 * Args.GetBoolOrDefault ('dangling=true'): `defaultValue` when the key is
 * absent; true/1 or false/0 otherwise. Conflicting or other values throw
 * INVALID_ARGUMENT `Invalid filter 'dangling=[maybe]'`.
 */
export function getBoolFilter(filters: Filters, key: string, defaultValue: boolean): boolean {
  const values = filters.get(key);
  if (values === undefined) return defaultValue;
  const isFalse = values.includes('0') || values.includes('false');
  const isTrue = values.includes('1') || values.includes('true');
  if (isFalse === isTrue) {
    throw new SlipwayError('INVALID_ARGUMENT', `Invalid filter '${key}=[${values.join(' ')}]'`);
  }
  return isTrue;
}

/**
 * One label filter value against a label map, as Docker's MatchKVList does
 * for it: 'k' needs the label to exist, 'k=v' needs it equal to 'v' (only the
 * first '=' splits, so 'k=a=b' wants value 'a=b').
 */
export function labelMatches(labels: Readonly<Record<string, string>> | undefined, filterValue: string): boolean {
  if (labels === undefined) return false;
  const eq = filterValue.indexOf('=');
  const key = eq < 0 ? filterValue : filterValue.slice(0, eq);
  if (!Object.prototype.hasOwnProperty.call(labels, key)) return false;
  return eq < 0 || labels[key] === filterValue.slice(eq + 1);
}

/** Args.MatchKVList: true when there are no values for `key`, else when every value matches `labels`. */
export function matchKVList(filters: Filters, key: string, labels: Readonly<Record<string, string>> | undefined): boolean {
  const values = filters.get(key) ?? [];
  if (values.length === 0) return true;
  if (labels === undefined || Object.keys(labels).length === 0) return false;
  return values.every((v) => labelMatches(labels, v));
}

/**
 * The label test of `image prune`/`container prune`: every `label=` value
 * must match, and the `label!=` values (key 'label!') must not all match.
 */
export function matchLabelFilters(filters: Filters, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!matchKVList(filters, 'label', labels)) return false;
  if (filters.has('label!') && matchKVList(filters, 'label!', labels)) return false;
  return true;
}

// ---- until= / since= timestamps (moby api/types/time) --------------------

/** Seconds and nanoseconds since the Unix epoch. */
export interface UnixTimestamp {
  seconds: number;
  nanos: number;
}

function invalid(message: string): SlipwayError {
  return new SlipwayError('INVALID_ARGUMENT', message);
}

/**
 * moby's GetTimestamp: a Go duration is taken back from `now` and returned
 * as whole Unix seconds ('10m' -> '1704164345'); an RFC3339-like date
 * ('2006-01-02', '2006-01-02T15:04', '...Z', '...+07:00', with optional
 * fraction; no zone means the zone `now` is in) becomes 'SECONDS.NANOS9';
 * a Unix timestamp ('1136073600.5') is returned unchanged. Throws
 * INVALID_ARGUMENT with Go's messages.
 */
export function getTimestamp(value: string, now: Date): string {
  if (value !== '0') {
    let d: bigint | undefined;
    try { d = parseGoDurationNanos(value); } catch { d = undefined; }
    if (d !== undefined) {
      const ns = BigInt(now.getTime()) * 1_000_000n - d;
      return floorDiv(ns, 1_000_000_000n).toString();
    }
  }
  const inLocation = !/[zZ+]/.test(value) && value.split('-').length - 1 !== 3;
  const layout = timestampLayout(value, inLocation);
  try {
    const offsetMin = inLocation ? -now.getTimezoneOffset() : undefined;
    const t = goParseTime(layout, value, offsetMin);
    return `${t.seconds}.${String(t.nanos).padStart(9, '0')}`;
  } catch (err) {
    if (value.includes('-')) throw err;
    const failed = (): SlipwayError => invalid(`failed to parse value as time or duration: ${goQuote(value)}`);
    if (value === '') throw failed();
    parseTimestamps(value, 0, failed);
    return value;
  }
}

function timestampLayout(value: string, inLocation: boolean): string {
  if (value.includes('.')) return inLocation ? '2006-01-02T15:04:05.999999999' : '2006-01-02T15:04:05.999999999Z07:00';
  if (value.includes('T')) {
    let colons = value.split(':').length - 1;
    if (!inLocation && !/[zZ]/.test(value) && colons > 0) colons--;
    const base = colons === 0 ? '2006-01-02T15' : colons === 1 ? '2006-01-02T15:04' : '2006-01-02T15:04:05';
    return inLocation ? base : `${base}Z07:00`;
  }
  return inLocation ? '2006-01-02' : '2006-01-02Z07:00';
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/**
 * moby's ParseTimestamps: 'SECONDS[.FRACTION]' -> seconds and nanoseconds
 * (fractions scaled to nanoseconds); '' gives `defaultSeconds`. Throws
 * INVALID_ARGUMENT (Go's strconv message, or `makeError()` when given).
 */
export function parseTimestamps(value: string, defaultSeconds: number, makeError?: () => SlipwayError): UnixTimestamp {
  if (value === '') return { seconds: defaultSeconds, nanos: 0 };
  const dot = value.indexOf('.');
  const sec = dot < 0 ? value : value.slice(0, dot);
  const frac = dot < 0 ? undefined : value.slice(dot + 1);
  const fail = (s: string): SlipwayError => makeError?.() ?? invalid(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  if (!/^[+-]?\d+$/.test(sec)) throw fail(sec);
  if (frac === undefined) return { seconds: Number(sec), nanos: 0 };
  if (!/^[+-]?\d+$/.test(frac)) throw fail(frac);
  const nanos = Math.trunc(Number(frac) * 10 ** (9 - frac.length));
  return { seconds: Number(sec), nanos };
}

/**
 * The instant an `until=`/`since=` filter value names, in epoch
 * milliseconds (fractional below 1 ms): getTimestamp then parseTimestamps.
 * '24h' -> now - 24 h (whole seconds); '2024-01-02' -> that local midnight.
 */
export function parseFilterTime(value: string, now: Date = new Date()): number {
  const t = parseTimestamps(getTimestamp(value, now), 0);
  return t.seconds * 1000 + t.nanos / 1e6;
}

// ---- a small Go time.Parse for the layouts above -------------------------

const STD_CHUNKS = ['.999999999', 'Z07:00', '2006', '01', '02', '15', '04', '05'];

function nextChunk(layout: string): [string, string, string] {
  for (let i = 0; i < layout.length; i++) {
    const std = STD_CHUNKS.find((c) => layout.startsWith(c, i));
    if (std !== undefined) return [layout.slice(0, i), std, layout.slice(i + std.length)];
  }
  return [layout, '', ''];
}

function getNum(s: string, fixed: boolean): [number, string] | null {
  if (!/^\d/.test(s)) return null;
  if (!/^\d\d/.test(s)) return fixed ? null : [Number(s[0]), s.slice(1)];
  return [Number(s.slice(0, 2)), s.slice(2)];
}

interface Fields { year: number; month: number; day: number; hour: number; min: number; sec: number; nanos: number; offset?: number }

/** Parses one std chunk off `v`; returns the rest, or null when it does not fit. */
function parseStd(std: string, v: string, f: Fields, range: { err: string }): string | null {
  const setNum = (fixed: boolean, key: 'month' | 'day' | 'hour' | 'min' | 'sec', max: number, min: number): string | null => {
    const r = getNum(v, fixed);
    if (r === null) return null;
    f[key] = r[0];
    if ((r[0] < min || r[0] > max) && range.err === '') range.err = key === 'min' ? 'minute' : key === 'sec' ? 'second' : key;
    return r[1];
  };
  switch (std) {
    case '2006':
      if (!/^\d{4}/.test(v)) return null;
      f.year = Number(v.slice(0, 4));
      return v.slice(4);
    case '01': return setNum(true, 'month', 12, 1);
    case '02': return setNum(true, 'day', 31, 0);
    case '15': return setNum(false, 'hour', 23, 0);
    case '04': return setNum(true, 'min', 59, 0);
    case '05': return setNum(true, 'sec', 59, 0);
    case '.999999999': {
      const m = /^[.,](\d{1,9})/.exec(v); // Go reads at most 9 digits here
      if (m === null) return v;
      f.nanos = Number((m[1] ?? '').padEnd(9, '0'));
      return v.slice(m[0].length);
    }
    default: { // Z07:00
      if (v.startsWith('Z')) { f.offset = 0; return v.slice(1); }
      const m = /^([+-])(\d\d):(\d\d)/.exec(v);
      if (m === null) return null;
      f.offset = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
      return v.slice(6);
    }
  }
}

/** Go time.Parse / ParseInLocation (fixed offset) for the layouts of getTimestamp. */
function goParseTime(layout: string, value: string, locationOffsetMin: number | undefined): UnixTimestamp {
  const err = (msg: string): SlipwayError => invalid(`parsing time ${goQuote(value)}${msg}`);
  const f: Fields = { year: 0, month: 1, day: 1, hour: 0, min: 0, sec: 0, nanos: 0 };
  const range = { err: '' };
  let rest = layout;
  let v = value;
  for (;;) {
    const [prefix, std, suffix] = nextChunk(rest);
    if (!v.startsWith(prefix)) throw err(` as ${goQuote(layout)}: cannot parse ${goQuote(v)} as ${goQuote(prefix)}`);
    v = v.slice(prefix.length);
    if (std === '') break;
    const next = parseStd(std, v, f, range);
    if (next === null) throw err(` as ${goQuote(layout)}: cannot parse ${goQuote(v)} as ${goQuote(std)}`);
    v = next;
    rest = suffix;
  }
  if (v !== '') throw err(`: extra text: ${goQuote(v)}`);
  if (range.err !== '') throw err(`: ${range.err} out of range`);
  const probe = new Date(0);
  probe.setUTCFullYear(f.year, f.month, 0);
  const daysIn = probe.getUTCDate();
  if (f.day < 1 || f.day > daysIn) throw err(': day out of range');
  const date = new Date(0);
  date.setUTCFullYear(f.year, f.month - 1, f.day);
  date.setUTCHours(f.hour, f.min, f.sec, 0);
  const wall = date.getTime() / 1000;
  const offset = f.offset ?? locationOffsetMin ?? 0;
  return { seconds: wall - offset * 60, nanos: f.nanos };
}

/**
 * Docker's human-readable sizes, durations and times: docker/go-units
 * (HumanSize, HumanSizeWithPrecision, BytesSize, HumanDuration), the
 * `... ago` column, Go's time formats as docker/cli prints them, and Go's
 * time.ParseDuration.
 */
import { SlipwayError } from '../errors.js';

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Exact decimal digits of a finite non-negative double: [digits, exponent of the first digit]. */
function exactDecimal(x: number): [string, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e2: number;
  if (exp === 0) e2 = -1074;
  else { mant |= 1n << 52n; e2 = exp - 1075; }
  let digits: string;
  let pointPos: number; // digits before the decimal point
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    pointPos = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e2)).toString();
    pointPos = digits.length + e2; // value = digits * 10^e2
  }
  const lead = digits.search(/[1-9]/);
  return [digits.slice(lead), pointPos - lead - 1];
}

/** Rounds a digit string to `n` digits, half to even (as Go's strconv); returns [digits, exponent bump]. */
function roundDigits(digits: string, n: number): [string, number] {
  if (digits.length <= n) return [digits.padEnd(n, '0'), 0];
  const head = digits.slice(0, n);
  const next = digits.charCodeAt(n) - 48;
  const tailNonZero = /[1-9]/.test(digits.slice(n + 1));
  const lastOdd = (head.charCodeAt(n - 1) - 48) % 2 === 1;
  const up = next > 5 || (next === 5 && (tailNonZero || lastOdd));
  if (!up) return [head, 0];
  const bumped = (BigInt(head) + 1n).toString();
  return bumped.length > n ? [bumped.slice(0, n), 1] : [bumped, 0];
}

/** Go's fmt `%.<precision>g` for a finite number (shortest form, trailing zeros removed). */
export function formatGoG(x: number, precision: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN';
  const p = precision <= 0 ? 1 : precision;
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (x === 0) return `${sign}0`;
  const [allDigits, e0] = exactDecimal(Math.abs(x));
  const [d, bump] = roundDigits(allDigits, p);
  const exp = e0 + bump;
  const trimmed = d.replace(/0+$/, '') || '0';
  if (exp < -4 || exp >= p) {
    const mant = trimmed.length > 1 ? `${trimmed[0]}.${trimmed.slice(1)}` : trimmed;
    const ae = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${trimmed}`;
  const intPart = trimmed.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = trimmed.slice(exp + 1);
  return `${sign}${intPart}${frac !== '' ? `.${frac}` : ''}`;
}

function sizeAndUnit(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  let s = size;
  while (s >= base && i < units.length - 1) {
    s /= base;
    i++;
  }
  return [s, units[i] ?? ''];
}

/** go-units HumanSizeWithPrecision: decimal units, `%.<precision>g` (3 for `docker images`/`history`/`ps -s`: '4.26MB', '1e+03kB'). */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  const [s, unit] = sizeAndUnit(bytes, 1000, DECIMAL_UNITS);
  return formatGoG(s, precision) + unit;
}

/** go-units HumanSize: decimal units with 4 significant digits ('1.049MB'); used by `system df`, SharedSize. */
export function humanSize(bytes: number): string {
  return humanSizeWithPrecision(bytes, 4);
}

/** go-units BytesSize: binary units with 4 significant digits ('1KiB', '3.42GiB'). */
export function bytesSize(bytes: number): string {
  const [s, unit] = sizeAndUnit(bytes, 1024, BINARY_UNITS);
  return formatGoG(s, 4) + unit;
}

/**
 * go-units HumanDuration for a duration in milliseconds: 'Less than a
 * second', '1 second', '45 seconds', 'About a minute', '35 minutes', 'About an
 * hour', '36 hours', '13 days', '6 weeks', '23 months', '3 years'.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor((ms + 1_800_000) / 3_600_000); // Duration.Round(time.Hour)
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** The CREATED column: humanDuration(now - created) + ' ago' ('2 weeks ago'). Times are Dates or epoch ms. */
export function createdSince(created: Date | number, now: Date | number = Date.now()): string {
  return `${humanDuration(toMs(now) - toMs(created))} ago`;
}

function toMs(d: Date | number): number {
  return typeof d === 'number' ? d : d.getTime();
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Options of the time formatters. */
export interface TimeFormatOptions {
  /** Format in UTC instead of the local time zone (Go's time.Local). */
  utc?: boolean;
}

function wallClock(date: Date, utc: boolean): { parts: number[]; offsetMin: number } {
  const offsetMin = utc ? 0 : -date.getTimezoneOffset();
  const shifted = new Date(date.getTime() + offsetMin * 60_000);
  const parts = [shifted.getUTCFullYear(), shifted.getUTCMonth() + 1, shifted.getUTCDate(),
    shifted.getUTCHours(), shifted.getUTCMinutes(), shifted.getUTCSeconds()];
  return { parts, offsetMin };
}

function formatOffset(offsetMin: number, colon: boolean): string {
  const a = Math.abs(offsetMin);
  return `${offsetMin < 0 ? '-' : '+'}${pad(Math.trunc(a / 60))}${colon ? ':' : ''}${pad(a % 60)}`;
}

/**
 * Go's time.RFC3339 of a whole-second time in the local zone, as `docker
 * history -H=false` prints CREATED AT: '2024-01-02T03:04:05Z' in UTC,
 * '2024-01-02T04:04:05+01:00' elsewhere. Milliseconds are dropped.
 */
export function formatRFC3339(date: Date | number, options: TimeFormatOptions = {}): string {
  const d = new Date(Math.floor(toMs(date) / 1000) * 1000);
  const { parts, offsetMin } = wallClock(d, options.utc === true);
  const [y, mo, da, h, mi, s] = parts as [number, number, number, number, number, number];
  const zone = offsetMin === 0 ? 'Z' : formatOffset(offsetMin, true);
  return `${pad(y, 4)}-${pad(mo)}-${pad(da)}T${pad(h)}:${pad(mi)}:${pad(s)}${zone}`;
}

/** Intl objects are slow to create: one set per value of $TZ. */
let zoneFormatters: { env: string | undefined; tz: string; formats: Intl.DateTimeFormat[]; names: Map<number, string> } | undefined;

function zoneAbbreviation(date: Date, offsetMin: number, utc: boolean): string {
  if (utc) return 'UTC';
  if (!zoneFormatters || zoneFormatters.env !== process.env.TZ) {
    zoneFormatters = {
      env: process.env.TZ, tz: Intl.DateTimeFormat().resolvedOptions().timeZone, names: new Map(),
      formats: ['en-US', 'en-GB'].map((locale) => new Intl.DateTimeFormat(locale, { timeZoneName: 'short' })),
    };
  }
  const zoneNames = zoneFormatters.names;
  const tz = zoneFormatters.tz;
  if (offsetMin === 0 && (tz === 'UTC' || tz === 'Etc/UTC' || tz === 'Etc/GMT')) return 'UTC';
  const known = zoneNames.get(offsetMin);
  if (known !== undefined) return known;
  for (const f of zoneFormatters.formats) {
    const name = f.formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? '';
    if (/^[A-Z]{2,5}$/.test(name)) {
      zoneNames.set(offsetMin, name);
      return name;
    }
  }
  const a = Math.abs(offsetMin);
  return `${offsetMin < 0 ? '-' : '+'}${pad(Math.trunc(a / 60))}${a % 60 !== 0 ? pad(a % 60) : ''}`;
}

/**
 * Go's time.Time.String() of a time, as `docker images --format
 * '{{.CreatedAt}}'` prints it: '2024-01-02 03:04:05 +0000 UTC'. Fractions of a
 * second are printed trimmed ('... 03:04:05.5 +0000 UTC'). The zone
 * abbreviation comes from Intl and may differ from Go's tzdata for some zones.
 */
export function formatGoTime(date: Date | number, options: TimeFormatOptions = {}): string {
  const ms = toMs(date);
  const d = new Date(ms);
  const utc = options.utc === true;
  const { parts, offsetMin } = wallClock(d, utc);
  const [y, mo, da, h, mi, s] = parts as [number, number, number, number, number, number];
  const frac = ((ms % 1000) + 1000) % 1000;
  const fracText = frac === 0 ? '' : `.${pad(frac, 3).replace(/0+$/, '')}`;
  return `${pad(y, 4)}-${pad(mo)}-${pad(da)} ${pad(h)}:${pad(mi)}:${pad(s)}${fracText} ` +
    `${formatOffset(offsetMin, false)} ${zoneAbbreviation(d, offsetMin, utc)}`;
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Go's time.RFC3339Nano, as `docker inspect` prints `Created`: keeps the
 * nanoseconds and the offset of an RFC3339 input string, trims trailing zeros
 * of the fraction, and writes a zero offset as 'Z'
 * ('2024-01-02T03:04:05.120000000+00:00' -> '2024-01-02T03:04:05.12Z').
 * A Date is formatted in UTC with its milliseconds. Throws INVALID_ARGUMENT
 * for a string that is not RFC3339.
 */
export function formatRFC3339Nano(input: string | Date): string {
  const text = typeof input === 'string' ? input : input.toISOString();
  const m = RFC3339_RE.exec(text);
  if (m === null) throw new SlipwayError('INVALID_ARGUMENT', `parsing time ${JSON.stringify(text)}: not an RFC 3339 time`);
  const frac = (m[7] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[8] === 'Z' || m[8] === '+00:00' || m[8] === '-00:00' ? 'Z' : m[8];
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac !== '' ? `.${frac}` : ''}${zone}`;
}

// ---- Go's time.ParseDuration --------------------------------------------

const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n,
  m: 60_000_000_000n, h: 3_600_000_000_000n,
};
const MAX_INT64 = (1n << 63n) - 1n;

/** Go's strconv-style quoting used in time's error messages ("\"1d\""). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).padStart(2, '0')}`;
    } else if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else out += ch;
  }
  return `${out}"`;
}

function durationError(message: string): SlipwayError {
  return new SlipwayError('INVALID_ARGUMENT', message);
}

/**
 * Go's time.ParseDuration in nanoseconds: '300ms', '-1.5h', '2h45m', '1µs'.
 * Throws INVALID_ARGUMENT with Go's messages: `time: invalid duration "x"`,
 * `time: missing unit in duration "1"`, `time: unknown unit "d" in duration "1d"`.
 */
export function parseGoDurationNanos(input: string): bigint {
  const bad = (): SlipwayError => durationError(`time: invalid duration ${goQuote(input)}`);
  let s = input;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) { neg = s[0] === '-'; s = s.slice(1); }
  if (s === '0') return 0n;
  if (s === '') throw bad();
  let total = 0n;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s);
    const intDigits = m?.[1] ?? '';
    const fracDigits = m?.[2];
    if (intDigits === '' && (fracDigits === undefined || fracDigits === '')) throw bad();
    s = s.slice(m?.[0].length ?? 0);
    const unitMatch = /^[^0-9.]*/.exec(s);
    const unit = unitMatch?.[0] ?? '';
    if (unit === '') throw durationError(`time: missing unit in duration ${goQuote(input)}`);
    s = s.slice(unit.length);
    const per = UNIT_NANOS[unit];
    if (per === undefined) throw durationError(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(input)}`);
    const v = intDigits === '' ? 0n : BigInt(intDigits);
    if (v > (1n << 63n) / per) throw bad();
    let value = v * per;
    if (fracDigits !== undefined) {
      const [f, scale] = leadingFraction(fracDigits);
      if (f > 0n) value += BigInt(Math.trunc(Number(f) * (Number(per) / scale)));
      if (value > 1n << 63n) throw bad();
    }
    total += value;
    if (total > 1n << 63n) throw bad();
  }
  if (neg) return -total;
  if (total > MAX_INT64) throw bad();
  return total;
}

/** Go's leadingFraction: the fraction digits that fit in an int64, and their scale. */
function leadingFraction(digits: string): [bigint, number] {
  let x = 0n;
  let scale = 1;
  for (const c of digits) {
    if (x > MAX_INT64 / 10n) break;
    const y = x * 10n + BigInt(c);
    if (y > 1n << 63n) break;
    x = y;
    scale *= 10;
  }
  return [x, scale];
}

/** Go's time.ParseDuration in milliseconds (fractional when below 1 ms): '24h' -> 86400000. */
export function parseGoDuration(input: string): number {
  const ns = parseGoDurationNanos(input);
  const ms = ns / 1_000_000n;
  return Number(ms) + Number(ns - ms * 1_000_000n) / 1e6;
}

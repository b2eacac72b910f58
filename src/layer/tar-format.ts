/**
 * Tar header layout, numeric/string field codecs, checksums and PAX records.
 * Shared by the reader and the writer. Field semantics follow Go's
 * archive/tar (the codec Docker and BuildKit use), so headers we parse and
 * write agree with theirs.
 */

/** Size of one tar block. */
export const BLOCK = 512;

/** The kinds of tar entries slipway understands. 'other' is any typeflag we pass through untouched. */
export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo' | 'other';

/** Which header dialect an entry was read from. */
export type TarFormat = 'v7' | 'ustar' | 'pax' | 'gnu';

/** A fully parsed tar entry header (what the reader yields). */
export interface TarHeader {
  /** Entry path as stored (after PAX / GNU long-name / ustar prefix), e.g. "usr/bin/" or "./etc/passwd". */
  name: string;
  type: TarEntryType;
  /** The raw typeflag character ('0', '5', 'S' ...); '\0' is reported as '0'. */
  typeflag: string;
  /** Body length in bytes (0 for header-only types: links, dirs, devices, fifos). */
  size: number;
  /** Permission bits plus setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Modification time in seconds since the epoch; fractional when a PAX record gave one. */
  mtime: number;
  /** Symlink target or hardlink target path ('' otherwise). */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from SCHILY.xattr.* (and LIBARCHIVE.xattr.*) PAX records, values as raw bytes. */
  xattrs: Record<string, Buffer>;
  /** Every PAX record that applied to this entry (global then local), including atime/ctime, as UTF-8 text. */
  pax: Record<string, string>;
  format: TarFormat;
}

/** What a caller gives the writer: only `name` is required. */
export interface TarHeaderInput {
  name: string;
  /** Defaults to 'file'. */
  type?: TarEntryType;
  /** Raw typeflag, required for type 'other', otherwise derived from `type`. */
  typeflag?: string;
  /** Body length; defaults to the Buffer body's length, or 0. */
  size?: number;
  /** Defaults to 0o644 for files, 0o755 for directories, 0o777 for symlinks. */
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch (fractional allowed) or a Date; defaults to 0. */
  mtime?: number | Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Buffer | string>;
  /** Extra PAX records to write (basic keys such as path/size/mtime/atime/ctime are ignored: they come from the fields). */
  pax?: Record<string, string>;
}

/** typeflag character for each entry type (files use '0' as Go does). */
export const TYPEFLAG: Record<Exclude<TarEntryType, 'other'>, string> = {
  file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6',
};

/** Map a typeflag to our entry type ('7' contiguous and '\0' old-style are plain files). */
export function typeFromFlag(flag: string): TarEntryType {
  switch (flag) {
    case '0': case '\0': case '7': return 'file';
    case '1': return 'link';
    case '2': return 'symlink';
    case '3': return 'char';
    case '4': return 'block';
    case '5': return 'directory';
    case '6': return 'fifo';
    default: return 'other';
  }
}

/** True for types whose header never carries a body (Go's isHeaderOnlyType). */
export function isHeaderOnly(type: TarEntryType): boolean {
  return type !== 'file' && type !== 'other';
}

/** Thrown by field parsers; the reader turns it into an INVALID_ARCHIVE error naming the entry. */
export class FieldError extends Error {}

/** Read a NUL-terminated string field as UTF-8. */
export function parseString(b: Buffer, off: number, len: number): string {
  let end = b.indexOf(0, off);
  if (end < 0 || end > off + len) end = off + len;
  return b.toString('utf8', off, end);
}

function isPad(c: number | undefined): boolean {
  return c === 0x20 || c === 0;
}

/** Parse an octal field, tolerating leading/trailing spaces and NULs like Go's parseOctal. */
export function parseOctal(b: Buffer, off: number, len: number): number {
  let start = off;
  let end = off + len;
  while (start < end && isPad(b[start])) start++;
  while (end > start && isPad(b[end - 1])) end--;
  let x = 0;
  for (let i = start; i < end; i++) {
    const d = (b[i] ?? 0) - 0x30;
    if (d < 0 || d > 7) throw new FieldError('invalid octal number in header');
    x = x * 8 + d;
  }
  if (!Number.isSafeInteger(x)) throw new FieldError('numeric header field overflows');
  return x;
}

/** Parse a numeric field: base-256 (GNU, high bit set, two's complement) or octal. */
export function parseNumeric(b: Buffer, off: number, len: number): number {
  const first = b[off] ?? 0;
  if ((first & 0x80) === 0) return parseOctal(b, off, len);
  const inv = (first & 0x40) !== 0 ? 0xff : 0;
  let x = 0;
  for (let i = 0; i < len; i++) {
    let c = ((b[off + i] ?? 0) ^ inv);
    if (i === 0) c &= 0x7f;
    x = x * 256 + c;
    if (x > Number.MAX_SAFE_INTEGER) throw new FieldError('base-256 header field overflows');
  }
  return inv ? -x - 1 : x;
}

/** Unsigned and signed header checksums, with the checksum field counted as spaces. */
export function computeChecksums(b: Buffer, off = 0): [number, number] {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : (b[off + i] ?? 0);
    unsigned += c;
    signed += c >= 128 ? c - 256 : c;
  }
  return [unsigned, signed];
}

/** True when the 512 bytes at `off` are all zero. */
export function isZeroBlock(b: Buffer, off = 0): boolean {
  for (let i = off; i < off + BLOCK; i += 8) {
    if (b.readBigUInt64LE(i) !== 0n) return false;
  }
  return true;
}

/** Largest value an octal field of `len` bytes holds with Go's layout (len-1 digits and a NUL). */
export function fitsOctal(len: number, x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0 && x < 8 ** (len - 1);
}

/** Write a zero-padded octal field with a trailing NUL (Go's formatOctal); 0 when it does not fit. */
export function formatOctal(b: Buffer, off: number, len: number, x: number): void {
  const v = fitsOctal(len, x) ? x : 0;
  const s = v.toString(8).padStart(len - 1, '0');
  b.write(s, off, len - 1, 'latin1');
  b[off + len - 1] = 0;
}

/** Write a string field, truncated to the field (the block is zero-filled, so shorter strings are NUL-terminated). */
export function formatString(b: Buffer, off: number, len: number, s: string): void {
  b.write(s, off, len, 'utf8');
}

/** Store the checksum the way Go does: six octal digits, NUL, space. */
export function writeChecksum(b: Buffer): void {
  b.fill(0x20, 148, 156);
  const [sum] = computeChecksums(b);
  b.write(sum.toString(8).padStart(6, '0'), 148, 6, 'latin1');
  b[154] = 0;
  b[155] = 0x20;
}

/** True when every character is 7-bit ASCII and not NUL. */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || c === 0) return false;
  }
  return true;
}

/** Drop non-ASCII characters (Go's toASCII, used for best-effort ustar fields under a PAX header). */
export function toAscii(s: string): string {
  return isAscii(s) ? s : s.replace(/[^\x01-\x7f]/gu, '');
}

/** A PAX record value: text, or raw bytes for binary xattrs. */
export type PaxValue = string | Buffer;

/** Encode one "%d %s=%s\n" PAX record whose length counts itself. */
export function formatPaxRecord(key: string, value: PaxValue): Buffer {
  const k = Buffer.from(key, 'utf8');
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const base = k.length + v.length + 3;
  let size = base + String(base).length;
  if (String(size).length + base !== size) size = base + String(size).length;
  return Buffer.concat([Buffer.from(`${size} `, 'latin1'), k, Buffer.from('='), v, Buffer.from('\n')]);
}

/** Parse the body of a PAX 'x'/'g' header into key -> raw value bytes. */
export function parsePaxRecords(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // some writers pad with NULs
    const sp = data.indexOf(0x20, pos);
    if (sp < 0 || sp - pos > 20) throw new FieldError('malformed PAX record length');
    const len = Number(data.toString('latin1', pos, sp));
    if (!Number.isSafeInteger(len) || len <= sp - pos + 1 || pos + len > data.length) {
      throw new FieldError('malformed PAX record length');
    }
    const end = pos + len;
    if (data[end - 1] !== 0x0a) throw new FieldError('PAX record is not terminated by a newline');
    const eq = data.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= end - 1 || eq === sp + 1) throw new FieldError('PAX record has no key=value');
    out.set(data.toString('utf8', sp + 1, eq), data.subarray(eq + 1, end - 1));
    pos = end;
  }
  return out;
}

/** Format seconds (possibly fractional) as a PAX time: "sec" or "sec.frac" with trailing zeros trimmed. */
export function formatPaxTime(t: number): string {
  if (Number.isInteger(t)) return String(t);
  const sec = Math.floor(t);
  const frac = Math.round((t - sec) * 1e9);
  if (frac >= 1e9) return String(sec + 1);
  const digits = String(frac).padStart(9, '0').replace(/0+$/u, '');
  return digits === '' ? String(sec) : `${sec}.${digits}`;
}

/**
 * Split a long ASCII path into ustar prefix (<=155) and name (<=100) at a
 * slash, as Go's splitUSTARPath does; null when no split fits.
 */
export function splitUstarPath(name: string): [string, string] | null {
  let length = name.length;
  if (length <= 100 || !isAscii(name)) return null;
  if (length > 156) length = 156;
  else if (name[length - 1] === '/') length--;
  const i = name.lastIndexOf('/', length - 1);
  const nlen = name.length - i - 1;
  if (i <= 0 || nlen > 100 || nlen === 0 || i > 155) return null;
  return [name.slice(0, i), name.slice(i + 1)];
}

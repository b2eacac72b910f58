/**
 * Header encoding with Go archive/tar's rules for Format=PAX (what Docker's
 * pkg/archive and BuildKit request): a plain ustar header whenever every
 * field fits (long ASCII paths split into prefix/name), otherwise a PAX 'x'
 * header named "<dir>/PaxHeaders.0/<base>" carrying only the fields that do
 * not fit, followed by a ustar header with best-effort truncated fields.
 */
import path from 'node:path';
import { SlipwayError } from '../errors.js';
import {
  BLOCK, TYPEFLAG, fitsOctal, formatOctal, formatPaxRecord, formatPaxTime, formatString, isAscii,
  splitUstarPath, toAscii, writeChecksum,
} from './tar-format.js';
import type { PaxValue, TarEntryType, TarHeader, TarHeaderInput } from './tar-format.js';

/** Encoding options. */
export interface EncodeOptions {
  /** Keep sub-second mtimes (forces a PAX mtime record, as Go does); default false: truncate to seconds. */
  preciseMtime?: boolean;
}

/** A header with every field resolved: a reader's TarHeader without its format, xattr values as bytes or text. */
export type NormalHeader = Omit<TarHeader, 'format' | 'xattrs'> & { xattrs: Record<string, Buffer | string> };

const BASIC_KEYS = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname', 'mtime', 'atime', 'ctime']);

function bad(name: string, msg: string): SlipwayError {
  return new SlipwayError('INVALID_ARGUMENT', `tar writer: entry "${name}": ${msg}`);
}

function defaultMode(type: TarEntryType): number {
  if (type === 'directory') return 0o755;
  if (type === 'symlink') return 0o777;
  return 0o644;
}

/** Fill defaults and validate a caller's header. */
export function normalizeHeader(h: TarHeaderInput, bodyLength: number | null): NormalHeader {
  if (typeof h.name !== 'string' || h.name === '') throw bad(String(h.name), 'empty name');
  const type = h.type ?? 'file';
  const typeflag = h.typeflag ?? (type === 'other' ? '' : TYPEFLAG[type]);
  if (typeflag.length !== 1) throw bad(h.name, 'type "other" needs a one-character typeflag');
  const size = h.size ?? bodyLength ?? 0;
  if (!Number.isSafeInteger(size) || size < 0) throw bad(h.name, `invalid size ${size}`);
  if (type !== 'file' && type !== 'other' && size !== 0) throw bad(h.name, `a ${type} entry cannot have a body`);
  const mtime = h.mtime instanceof Date ? h.mtime.getTime() / 1000 : h.mtime ?? 0;
  const n: NormalHeader = {
    name: h.name, type, typeflag, size,
    mode: h.mode ?? defaultMode(type),
    uid: h.uid ?? 0, gid: h.gid ?? 0,
    uname: h.uname ?? '', gname: h.gname ?? '',
    mtime, linkname: h.linkname ?? '',
    devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0,
    xattrs: h.xattrs ?? {}, pax: h.pax ?? {},
  };
  for (const [k, v] of [['uid', n.uid], ['gid', n.gid], ['mode', n.mode], ['devmajor', n.devmajor], ['devminor', n.devminor]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw bad(h.name, `invalid ${k} ${v}`);
  }
  if (!Number.isFinite(mtime)) throw bad(h.name, 'invalid mtime');
  if (!fitsOctal(8, n.devmajor) || !fitsOctal(8, n.devminor)) throw bad(h.name, 'device number too large for a tar header');
  if (!fitsOctal(8, n.mode)) throw bad(h.name, 'mode too large for a tar header');
  return n;
}

/** Collect the PAX records needed for `h`, and whether plain ustar still suffices. */
function paxNeeds(h: NormalHeader, opts: EncodeOptions): { records: Map<string, PaxValue>; ustar: boolean } {
  const records = new Map<string, PaxValue>();
  let ustar = true;
  const str = (key: string, v: string, size: number, splittable: boolean): void => {
    if (Buffer.byteLength(v) <= size && isAscii(v)) return;
    records.set(key, v);
    if (!(splittable && splitUstarPath(v))) ustar = false;
  };
  str('path', h.name, 100, true);
  str('linkpath', h.linkname, 100, false);
  str('uname', h.uname, 32, false);
  str('gname', h.gname, 32, false);
  const num = (key: string, v: number, size: number): void => {
    if (fitsOctal(size, v)) return;
    records.set(key, String(v));
    ustar = false;
  };
  num('uid', h.uid, 8);
  num('gid', h.gid, 8);
  num('size', h.size, 12);
  const sec = Math.floor(h.mtime);
  const fraction = opts.preciseMtime === true && sec !== h.mtime;
  if (!fitsOctal(12, sec) || fraction) {
    records.set('mtime', formatPaxTime(opts.preciseMtime === true ? h.mtime : sec));
    ustar = false;
  }
  for (const [k, v] of Object.entries(h.pax)) {
    if (BASIC_KEYS.has(k) || k.startsWith('GNU.sparse.')) continue;
    records.set(k, v);
    ustar = false;
  }
  for (const [k, v] of Object.entries(h.xattrs)) {
    records.set(`SCHILY.xattr.${k}`, v);
    ustar = false;
  }
  return { records, ustar };
}

/** The common v7/ustar fields (Go's templateV7Plus), with strings passed through `str`. */
function templateBlock(h: NormalHeader, str: (s: string) => string): Buffer {
  const b = Buffer.alloc(BLOCK);
  formatString(b, 0, 100, str(h.name));
  formatOctal(b, 100, 8, h.mode);
  formatOctal(b, 108, 8, h.uid);
  formatOctal(b, 116, 8, h.gid);
  formatOctal(b, 124, 12, h.size);
  formatOctal(b, 136, 12, Math.floor(h.mtime));
  b.write(h.typeflag, 156, 1, 'latin1');
  formatString(b, 157, 100, str(h.linkname));
  b.write('ustar\x0000', 257, 8, 'latin1');
  formatString(b, 265, 32, str(h.uname));
  formatString(b, 297, 32, str(h.gname));
  formatOctal(b, 329, 8, h.devmajor);
  formatOctal(b, 337, 8, h.devminor);
  return b;
}

/** Name of the PAX header entry, as Go derives it. */
function paxHeaderName(name: string): string {
  const slash = name.lastIndexOf('/');
  const dir = name.slice(0, slash + 1);
  const base = name.slice(slash + 1);
  let joined = path.posix.join(dir === '' ? '.' : dir, 'PaxHeaders.0', base);
  joined = toAscii(joined).slice(0, 100);
  return joined.replace(/\/+$/u, '');
}

/** The raw special-file header Go writes for PAX records (mode/uid/gid/mtime all zero). */
function rawHeader(name: string, flag: string, size: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  formatString(b, 0, 100, name);
  formatOctal(b, 100, 8, 0);
  formatOctal(b, 108, 8, 0);
  formatOctal(b, 116, 8, 0);
  formatOctal(b, 124, 12, size);
  formatOctal(b, 136, 12, 0);
  b.write(flag, 156, 1, 'latin1');
  b.write('ustar\x0000', 257, 8, 'latin1');
  writeChecksum(b);
  return b;
}

/** Encode the header blocks for one entry (PAX header + data + ustar header, or just ustar). */
export function encodeHeader(h: NormalHeader, opts: EncodeOptions = {}): Buffer[] {
  const { records, ustar } = paxNeeds(h, opts);
  if (ustar) {
    const split = splitUstarPath(h.name);
    const b = templateBlock(split ? { ...h, name: split[1] } : h, (s) => s);
    if (split) formatString(b, 345, 155, split[0]);
    writeChecksum(b);
    return [b];
  }
  const keys = [...records.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const data = Buffer.concat(keys.map((k) => formatPaxRecord(k, records.get(k) as PaxValue)));
  if (data.length > 1 << 20) throw bad(h.name, 'PAX records larger than 1 MiB');
  const out = [rawHeader(paxHeaderName(h.name), 'x', data.length), data];
  const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
  if (pad > 0) out.push(Buffer.alloc(pad));
  const main = templateBlock(h, toAscii);
  writeChecksum(main);
  out.push(main);
  return out;
}

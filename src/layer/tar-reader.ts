/**
 * Streaming tar reader: ustar, GNU (long names 'L'/'K', base-256 numbers)
 * and PAX ('x' local and 'g' global records). End of archive, checksum and
 * size rules follow Go's archive/tar reader.
 */
import { Readable } from 'node:stream';
import { SlipwayError } from '../errors.js';
import { ByteSource } from './byte-source.js';
import {
  BLOCK, FieldError, computeChecksums, isHeaderOnly, isZeroBlock, parseNumeric, parseOctal,
  parsePaxRecords, parseString, typeFromFlag,
} from './tar-format.js';
import type { TarFormat, TarHeader } from './tar-format.js';

/** Options of readTar. */
export interface ReadTarOptions {
  /** Prefix of error messages, e.g. 'layer tar' (default 'tar'). */
  label?: string;
  /** Called with every raw input chunk, in order (to hash or count the archive). */
  onChunk?: (chunk: Buffer) => void;
  /** After the end-of-archive marker, read the input to its end (default true) so upstream errors surface. */
  drainTrailing?: boolean;
}

/** Largest PAX or GNU long-name body accepted (Go's maxSpecialFileSize). */
const MAX_SPECIAL = 1 << 20;

/** Shared body state of one entry: reads slices straight from the source. */
class BodyState {
  remaining: number;
  private pending: Promise<unknown> | null = null;
  private finishing: Promise<void> | null = null;

  constructor(private readonly src: ByteSource, private readonly header: TarHeader, private readonly fail: (msg: string) => SlipwayError) {
    this.remaining = header.size;
  }

  /** Next body chunk, or null at the end of the body. */
  read(): Promise<Buffer | null> {
    const p = this.readInner();
    this.pending = p.catch(() => undefined);
    return p;
  }

  private async readInner(): Promise<Buffer | null> {
    if (this.remaining <= 0) return null;
    const chunk = await this.src.readSome(this.remaining);
    if (chunk === null) {
      throw this.fail(`unexpected end of archive inside the body (${this.header.size - this.remaining} of ${this.header.size} bytes)`);
    }
    this.remaining -= chunk.length;
    return chunk;
  }

  /** Skip whatever the consumer did not read, then the padding to the block boundary. */
  finish(): Promise<void> {
    this.finishing ??= this.skipRest();
    return this.finishing;
  }

  private async skipRest(): Promise<void> {
    if (this.pending) await this.pending;
    const left = this.remaining;
    this.remaining = 0;
    const pad = (BLOCK - (this.header.size % BLOCK)) % BLOCK;
    const skipped = await this.src.skip(left + pad);
    if (skipped < left) {
      throw this.fail(`unexpected end of archive inside the body (${this.header.size - left + skipped} of ${this.header.size} bytes)`);
    }
    if (skipped < left + pad) throw this.fail('unexpected end of archive inside the padding after the body');
  }
}

/**
 * Readable view of a body, created when a consumer asks for `entry.body`.
 * (A plain Readable, not a subclass: a class extending Readable would load
 * node:stream when this module initialises, even for a cached build.)
 */
function bodyReadable(state: BodyState): Readable {
  return new Readable({
    highWaterMark: 1 << 20,
    read() {
      state.read().then((c) => this.push(c), (err: unknown) => this.destroy(err as Error));
    },
  });
}

/**
 * One archive member. Its body must be consumed (via `body`, async
 * iteration, `buffer()` or `drain()`) before asking for the next entry;
 * whatever is left is skipped automatically when the reader moves on.
 */
export class TarEntry implements AsyncIterable<Buffer> {
  private readable: Readable | null = null;

  /** @internal */
  constructor(readonly header: TarHeader, private readonly state: BodyState) {}

  /** The body as a Readable stream (created on first access). */
  get body(): Readable {
    this.readable ??= bodyReadable(this.state);
    return this.readable;
  }

  /** Iterate body chunks directly (fastest path; zero-copy slices of the input). */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: async () => {
        const c = await this.state.read();
        return c === null ? { value: undefined, done: true } : { value: c, done: false };
      },
    };
  }

  /** Collect the whole body in memory (for small bodies only). */
  async buffer(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of this) parts.push(c);
    return Buffer.concat(parts);
  }

  /** Skip the rest of the body. */
  async drain(): Promise<void> {
    await this.state.finish();
  }
}

interface Pending {
  pax: Map<string, Buffer>;
  longName: string | null;
  longLink: string | null;
}

/**
 * Read a tar stream entry by entry. Throws SlipwayError('INVALID_ARCHIVE')
 * naming the entry on bad checksums, malformed fields, or input that ends
 * inside a header or body. A clean EOF at a header boundary, or after one
 * zero block, ends the archive like Go's reader does.
 */
export async function* readTar(input: Readable | AsyncIterable<unknown>, opts: ReadTarOptions = {}): AsyncGenerator<TarEntry, void, undefined> {
  const label = opts.label ?? 'tar';
  const src = new ByteSource(input, opts.onChunk);
  const global = new Map<string, Buffer>();
  let prev = '';
  let state: BodyState | null = null;
  let done = false;
  try {
    for (;;) {
      if (state) await state.finish();
      state = null;
      const header = await nextHeader(src, global, label, prev);
      if (!header) break;
      prev = header.name;
      const fail = (msg: string): SlipwayError => new SlipwayError('INVALID_ARCHIVE', `${label}: entry "${header.name}": ${msg}`);
      state = new BodyState(src, header, fail);
      yield new TarEntry(header, state);
    }
    if (opts.drainTrailing !== false) await src.drainAll();
    done = true;
  } finally {
    if (!done) await src.close().catch(() => undefined);
  }
}

function archiveError(label: string, name: string, msg: string, cause?: unknown): SlipwayError {
  const who = name === '' ? 'at the start of the archive' : `after entry "${name}"`;
  return new SlipwayError('INVALID_ARCHIVE', `${label}: ${msg} ${who}`, { cause });
}

/** Read one 512-byte block; null on clean EOF. */
async function readBlock(src: ByteSource, label: string, prev: string): Promise<Buffer | null> {
  const blk = await src.readExact(BLOCK);
  if (blk === null || Buffer.isBuffer(blk)) return blk;
  throw archiveError(label, prev, `unexpected end of archive inside a header (${blk.short} of 512 bytes)`);
}

/** Read headers until a real entry (consuming PAX and GNU meta entries); null at the end. */
async function nextHeader(src: ByteSource, global: Map<string, Buffer>, label: string, prev: string): Promise<TarHeader | null> {
  const pending: Pending = { pax: new Map(), longName: null, longLink: null };
  for (;;) {
    const blk = await readBlock(src, label, prev);
    if (blk === null) return null;
    if (isZeroBlock(blk)) {
      const second = await readBlock(src, label, prev);
      if (second === null || isZeroBlock(second)) return null;
      throw archiveError(label, prev, 'invalid header (a zero block followed by data)');
    }
    const rawName = parseString(blk, 0, 100);
    const fail = (msg: string, cause?: unknown): SlipwayError =>
      new SlipwayError('INVALID_ARCHIVE', `${label}: entry ${JSON.stringify(rawName)}: ${msg}`, { cause }); // JSON: a garbage block's "name" may hold newlines
    const format = detectFormat(blk, fail);
    let header: TarHeader;
    try {
      header = parseBlock(blk, format);
    } catch (err) {
      throw fail(err instanceof FieldError ? err.message : 'invalid header', err);
    }
    const flag = header.typeflag;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      const data = await readSpecial(src, header.size, fail);
      try {
        if (flag === 'x') for (const [k, v] of parsePaxRecords(data)) pending.pax.set(k, v);
        else if (flag === 'g') for (const [k, v] of parsePaxRecords(data)) global.set(k, v);
        else if (flag === 'L') pending.longName = parseString(data, 0, data.length);
        else pending.longLink = parseString(data, 0, data.length);
      } catch (err) {
        throw fail(err instanceof FieldError ? err.message : 'invalid extended header', err);
      }
      continue;
    }
    try {
      finishHeader(header, global, pending);
    } catch (err) {
      throw fail(err instanceof FieldError ? err.message : 'invalid extended header', err);
    }
    return header;
  }
}

async function readSpecial(src: ByteSource, size: number, fail: (m: string) => SlipwayError): Promise<Buffer> {
  if (size > MAX_SPECIAL) throw fail(`extended header of ${size} bytes is larger than 1 MiB`);
  const padded = Math.ceil(size / BLOCK) * BLOCK;
  const data = await src.readExact(padded);
  if (data === null || !Buffer.isBuffer(data)) throw fail('unexpected end of archive inside an extended header');
  // A copy: global PAX records outlive the input chunk, whose memory may be reused (SlotRing).
  return Buffer.from(data.subarray(0, size));
}

/** Verify the checksum and sniff the magic (Go's getFormat). */
function detectFormat(blk: Buffer, fail: (m: string) => SlipwayError): TarFormat {
  let stored: number;
  try {
    stored = parseOctal(blk, 148, 8);
  } catch {
    throw fail('invalid header checksum field (not a tar archive?)');
  }
  const [u, s] = computeChecksums(blk);
  if (stored !== u && stored !== s) throw fail(`header checksum mismatch (stored ${stored}, computed ${u})`);
  const magic = blk.toString('latin1', 257, 263);
  if (magic === 'ustar\0') return 'ustar';
  if (magic === 'ustar ' && blk[263] === 0x20 && blk[264] === 0) return 'gnu';
  return 'v7';
}

function parseBlock(blk: Buffer, format: TarFormat): TarHeader {
  const flag = String.fromCharCode(blk[156] ?? 0);
  let name = parseString(blk, 0, 100);
  const h: TarHeader = {
    name,
    type: typeFromFlag(flag),
    typeflag: flag === '\0' ? '0' : flag,
    size: parseNumeric(blk, 124, 12),
    mode: parseNumeric(blk, 100, 8) & 0o7777,
    uid: parseNumeric(blk, 108, 8),
    gid: parseNumeric(blk, 116, 8),
    mtime: parseNumeric(blk, 136, 12),
    linkname: parseString(blk, 157, 100),
    uname: '', gname: '', devmajor: 0, devminor: 0,
    xattrs: {}, pax: {}, format,
  };
  if (format !== 'v7') {
    h.uname = parseString(blk, 265, 32);
    h.gname = parseString(blk, 297, 32);
    h.devmajor = parseNumeric(blk, 329, 8);
    h.devminor = parseNumeric(blk, 337, 8);
  }
  if (format === 'ustar') {
    const star = blk.toString('latin1', 508, 512) === 'tar\0';
    const prefix = parseString(blk, 345, star ? 131 : 155);
    if (prefix !== '') name = `${prefix}/${name}`;
    h.name = name;
  }
  if (h.size < 0) throw new FieldError('negative size');
  // Old-style '\0' entries whose name ends in '/' are directories (Go does the same).
  if (flag === '\0' && name.endsWith('/')) {
    h.type = 'directory';
    h.typeflag = '5';
  }
  return h;
}

const XATTR_PREFIXES = ['SCHILY.xattr.', 'LIBARCHIVE.xattr.'];

function paxInt(v: Buffer, key: string): number {
  const s = v.toString('latin1');
  if (!/^-?\d+$/u.test(s)) throw new FieldError(`invalid PAX ${key} "${s}"`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new FieldError(`PAX ${key} "${s}" is out of range`);
  return n;
}

/** Apply global then local PAX records, then GNU long names (PAX first, as Go does). */
function finishHeader(h: TarHeader, global: Map<string, Buffer>, p: Pending): void {
  const records = new Map([...global, ...p.pax]);
  for (const [k, v] of records) {
    if (v.length === 0) continue; // an empty value unsets a global default
    h.pax[k] = v.toString('utf8');
    switch (k) {
      case 'path': h.name = v.toString('utf8'); break;
      case 'linkpath': h.linkname = v.toString('utf8'); break;
      case 'uname': h.uname = v.toString('utf8'); break;
      case 'gname': h.gname = v.toString('utf8'); break;
      case 'uid': h.uid = paxInt(v, k); break;
      case 'gid': h.gid = paxInt(v, k); break;
      case 'size': h.size = paxInt(v, k); break;
      case 'mtime': {
        const t = Number(v.toString('latin1'));
        if (!Number.isFinite(t)) throw new FieldError(`invalid PAX mtime "${v.toString('latin1')}"`);
        h.mtime = t;
        break;
      }
      default: {
        const prefix = XATTR_PREFIXES.find((x) => k.startsWith(x));
        if (prefix) {
          const name = prefix === 'SCHILY.xattr.' ? k.slice(prefix.length) : decodeURIComponent(k.slice(prefix.length));
          h.xattrs[name] = prefix === 'SCHILY.xattr.' ? Buffer.from(v) : Buffer.from(v.toString('latin1'), 'base64');
        }
      }
    }
  }
  if (records.size > 0) h.format = 'pax';
  if (p.longName !== null) h.name = p.longName;
  if (p.longLink !== null) h.linkname = p.longLink;
  if (h.size < 0) throw new FieldError('negative size');
  if (isHeaderOnly(h.type)) h.size = 0;
}

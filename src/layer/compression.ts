/**
 * Compression sniffing and (de)compression streams. gzip runs in zlib with
 * 1 MiB chunks (twice as fast as the default); bzip2, xz and zstd run
 * Debian's programs (`bzip2 -dc`, `xz -dc`, `zstd -dc`), since Node 20 has
 * no zstd. Every failure, including truncated or corrupt input and a
 * program's non-zero exit, ends the returned stream with a SlipwayError;
 * it never just stops early.
 */
import { PassThrough, Readable } from 'node:stream';
import type { Gunzip, Gzip } from 'node:zlib';
import { childProcess, zlib } from '../builtins.js';
import { SlipwayError, isErrno } from '../errors.js';

/** A compression format slipway recognises. */
export type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'none';

const MAGIC: Array<[Exclude<Compression, 'none'>, number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

/** Longest magic number, i.e. how many leading bytes detectCompression wants. */
export const MAGIC_BYTES = 6;

/** Identify the compression from the first bytes of a stream ('none' when nothing matches). */
export function detectCompression(firstBytes: Buffer): Compression {
  for (const [name, magic] of MAGIC) {
    if (firstBytes.length >= magic.length && magic.every((b, i) => firstBytes[i] === b)) return name;
  }
  return 'none';
}

/**
 * Look at the first `n` bytes (fewer only at EOF) without losing them: they
 * are unshifted back, and `stream` is what to read from afterwards.
 */
export function peek(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const done = (err?: unknown, ended = false): void => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', done);
      if (err !== undefined) {
        reject(err);
        return;
      }
      const head = Buffer.concat(parts);
      if (ended) {
        resolve({ head, stream: Readable.from(head.length > 0 ? [head] : [], { objectMode: false }) });
        return;
      }
      if (head.length > 0) input.unshift(head);
      resolve({ head, stream: input });
    };
    const onEnd = (): void => done(undefined, true);
    const onReadable = (): void => {
      let chunk: unknown;
      while (got < n && (chunk = input.read()) !== null) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        parts.push(b);
        got += b.length;
      }
      if (got >= n) done();
    };
    input.on('readable', onReadable);
    input.once('end', onEnd);
    input.once('error', done);
    onReadable();
  });
}

/**
 * The output of a (de)compressor. A failure can happen before the caller
 * starts reading; the error is kept (`errored`) and delivered to whoever
 * reads or pipes the stream, instead of crashing the process as an
 * unhandled 'error' event.
 */
function outputStream(): PassThrough {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  out.on('error', () => undefined);
  return out;
}

function corrupt(what: string, err: unknown): SlipwayError {
  if (err instanceof SlipwayError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new SlipwayError('INVALID_ARCHIVE', `${what}: corrupt or truncated compressed data: ${msg}`, { cause: err });
}

/** Pipe `input` through zlib; failures end the returned stream with a SlipwayError. */
function throughZlib(input: Readable, z: Gunzip | Gzip, what: string): Readable {
  const out = outputStream();
  const fail = (err: SlipwayError): void => {
    if (!out.destroyed) out.destroy(err);
    input.destroy();
    z.destroy();
  };
  input.on('error', (err) => fail(err instanceof SlipwayError ? err : new SlipwayError('IO', `reading ${what} input: ${err.message}`, { cause: err })));
  z.on('error', (err) => fail(corrupt(what, err)));
  out.on('close', () => {
    if (!out.writableFinished) fail(new SlipwayError('IO', `${what}: stream closed early`));
  });
  input.pipe(z).pipe(out);
  return out;
}

/** Run `prog -dc` with `input` on stdin; the output stream errors unless the program exits 0. */
function throughProgram(input: Readable, prog: string): Readable {
  const out = outputStream();
  const child = childProcess().spawn(prog, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let failed = false;
  const fail = (err: SlipwayError): void => {
    if (failed) return;
    failed = true;
    input.unpipe(child.stdin);
    input.destroy();
    child.kill();
    out.destroy(err);
  };
  child.stderr.setEncoding('utf8').on('data', (s: string) => { if (stderr.length < 4096) stderr += s; });
  child.on('error', (err) => {
    if (isErrno(err, 'ENOENT')) fail(new SlipwayError('UNSUPPORTED', `${prog} is not installed (needed to decompress this ${prog} stream)`, { cause: err }));
    else fail(new SlipwayError('IO', `${prog}: ${err.message}`, { cause: err }));
  });
  child.stdin.on('error', () => undefined); // EPIPE when the program exits early; its exit status decides
  input.on('error', (err) => fail(err instanceof SlipwayError ? err : new SlipwayError('IO', `reading ${prog} input: ${err.message}`, { cause: err })));
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('close', (code, signal) => {
    if (failed) return;
    if (code === 0) out.end();
    else fail(new SlipwayError('INVALID_ARCHIVE', `${prog}: decompression failed (${code === null ? `signal ${signal}` : `exit status ${code}`}): ${stderr.trim() || 'no message'}`));
  });
  out.on('close', () => {
    if (child.exitCode === null && !failed) {
      failed = true;
      child.kill();
      input.destroy();
    }
  });
  return out;
}

/**
 * Sniff the compression of `input` from its first bytes (nothing is lost)
 * and return the decompressed stream; uncompressed input is returned as is.
 */
export async function decompress(input: Readable): Promise<Readable> {
  const { head, stream } = await peek(input, MAGIC_BYTES);
  const kind = detectCompression(head);
  switch (kind) {
    case 'none': return stream;
    case 'gzip': return throughZlib(stream, zlib().createGunzip({ chunkSize: 1 << 20 }), 'gzip');
    default: return throughProgram(stream, kind);
  }
}

/** Compress `input` with gzip (level 0-9, default 6 like Go's DefaultCompression used by Docker). */
export function compressGzip(input: Readable, level = 6): Readable {
  return throughZlib(input, zlib().createGzip({ level, chunkSize: 1 << 20 }), 'gzip');
}

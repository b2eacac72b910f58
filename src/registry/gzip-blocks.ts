/**
 * gzip for pushed layers that does not spend deflate's time on bytes that
 * will not shrink. The input is cut at fixed 1 MiB offsets; a block whose
 * sampled byte entropy says it is already compressed or random (a .gz, a
 * .jar, an image, encrypted data) is written as stored deflate blocks
 * (zlib level 0: a copy and the CRC), every other block at the asked level.
 * The same approach as klauspost/compress's skipping of incompressible
 * data, which Go tools (containerd, skopeo) use. The decision depends only
 * on the bytes, so the same layer always gives the same gzip stream and
 * digest; any gzip reader decodes it.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import zlib from 'node:zlib';
import { SlipwayError } from '../errors.js';

/** Bytes per decision. */
export const GZIP_BLOCK = 1 << 20;

/** Order-0 entropy (bits per byte) at or above which a block is stored. */
const STORE_ENTROPY = 7.97;
/** The sample: SAMPLE_RUNS runs of SAMPLE_RUN bytes spread over the block. */
const SAMPLE_RUNS = 8;
const SAMPLE_RUN = 2048;

const counts = new Uint32Array(256);

/** True when `block` looks incompressible: the sampled bytes' order-0 entropy is near 8 bits. */
export function looksIncompressible(block: Buffer): boolean {
  if (block.length < SAMPLE_RUNS * SAMPLE_RUN * 2) return false;
  counts.fill(0);
  const step = Math.floor(block.length / SAMPLE_RUNS);
  for (let r = 0; r < SAMPLE_RUNS; r++) {
    const start = r * step;
    for (let i = start; i < start + SAMPLE_RUN; i++) {
      const b = block[i] as number;
      counts[b] = (counts[b] as number) + 1;
    }
  }
  const n = SAMPLE_RUNS * SAMPLE_RUN;
  let h = 0;
  for (let b = 0; b < 256; b++) {
    const c = counts[b] as number;
    if (c > 0) h -= (c / n) * Math.log2(c / n);
  }
  return h >= STORE_ENTROPY;
}

/** Options of gzipBlocks. */
export interface GzipBlocksOptions {
  /** Level for compressible blocks (1-9). */
  level: number;
}

/** gzip's header as zlib writes it: no name, no time, XFL from the level, OS Unix. */
function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}

/**
 * Compresses `input` with gzip (no name, no time: deterministic), storing
 * incompressible 1 MiB blocks. Raw deflate with our own header and CRC
 * trailer: Node's Gzip ignores a change of level (params), DeflateRaw
 * honours it. Failures end the returned stream with a SlipwayError.
 */
export function gzipBlocks(input: Readable, options: GzipBlocksOptions): Readable {
  const d = zlib.createDeflateRaw({ level: options.level, chunkSize: 1 << 20 });
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  out.on('error', () => undefined);
  let crc = 0;
  let size = 0;
  let current = options.level;
  const fail = (err: unknown): void => {
    if (out.destroyed) return;
    out.destroy(err instanceof SlipwayError ? err : new SlipwayError('IO', `compressing a layer: ${(err as Error).message}`, { cause: err }));
    d.destroy();
    input.destroy();
  };
  const writeBlock = async (block: Buffer): Promise<void> => {
    const level = looksIncompressible(block) ? 0 : options.level;
    if (level !== current) {
      await new Promise<void>((resolve) => d.params(level, zlib.constants.Z_DEFAULT_STRATEGY, () => resolve()));
      current = level;
    }
    crc = zlib.crc32(block, crc);
    size += block.length;
    if (!d.write(block)) await drained(d);
  };
  const pump = async (): Promise<void> => {
    let held: Buffer[] = [];
    let heldBytes = 0;
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(GZIP_BLOCK - heldBytes, chunk.length - off);
        held.push(chunk.subarray(off, off + n));
        heldBytes += n;
        off += n;
        if (heldBytes === GZIP_BLOCK) {
          await writeBlock(held.length === 1 ? held[0] as Buffer : Buffer.concat(held));
          held = [];
          heldBytes = 0;
        }
      }
    }
    if (heldBytes > 0) await writeBlock(Buffer.concat(held));
    d.end();
  };
  out.write(gzipHeader(options.level));
  d.on('error', fail);
  d.on('end', () => {
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(size % 2 ** 32, 4);
    out.end(trailer);
  });
  d.pipe(out, { end: false });
  out.on('close', () => {
    if (!out.writableFinished) fail(new SlipwayError('IO', 'compressing a layer: the output was closed early'));
  });
  pump().catch(fail);
  return out;
}

/** Resolves on 'drain', or throws when the stream closes first. */
function drained(s: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      s.off('drain', done);
      s.off('close', closed);
      resolve();
    };
    const closed = (): void => {
      s.off('drain', done);
      reject(new SlipwayError('IO', 'compressing a layer: the compressor closed early'));
    };
    s.on('drain', done);
    s.once('close', closed);
  });
}

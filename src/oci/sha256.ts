/**
 * SHA-256 of small in-memory data without node:crypto. Loading node:crypto
 * costs 4-7 ms of a command's start (it loads its ciphers and node:stream),
 * more than a cached build spends hashing: its inputs are cache-key strings,
 * image configs and manifests of a few kB. Larger or streamed data goes
 * through node:crypto (hundreds of times faster per byte before V8 optimises
 * this code): {@link smallHasher} hands over to it once its input passes
 * {@link JS_LIMIT} bytes.
 */
import { createHash, type Hash } from 'node:crypto';

/**
 * Inputs up to this many bytes are hashed here; longer ones by node:crypto.
 * Measured in a fresh process: until V8 optimises it this code hashes only a
 * few MB/s, so 4 kB costs about what loading node:crypto does (~2.7 ms) and
 * 16 kB three times that.
 */
export const JS_LIMIT = 8 * 1024;

/**
 * Bytes this process may still hash in JavaScript. A cached build of a few
 * steps (configs, manifests, a few cache keys: ~4 kB) stays under it and never
 * loads node:crypto; a 40-step one hashes its first keys here, then loading
 * node:crypto (3-4 ms) is cheaper than going on with the cold code.
 */
let jsBudget = 8 * 1024;

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** Runs the compression function over the 64-byte blocks of `m` (its length is a multiple of 64). */
function blocks(h: Int32Array, w: Int32Array, m: Buffer): void {
  for (let off = 0; off < m.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = m.readInt32BE(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15] as number;
      const b = w[i - 2] as number;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
    }
    let a = h[0] as number, b = h[1] as number, c = h[2] as number, d = h[3] as number;
    let e = h[4] as number, f = h[5] as number, g = h[6] as number, hh = h[7] as number;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + s1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (w[i] as number)) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0;
      d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0] as number) + a; h[1] = (h[1] as number) + b; h[2] = (h[2] as number) + c; h[3] = (h[3] as number) + d;
    h[4] = (h[4] as number) + e; h[5] = (h[5] as number) + f; h[6] = (h[6] as number) + g; h[7] = (h[7] as number) + hh;
  }
}

/** The SHA-256 of `data` as lowercase hex, computed in JavaScript (meant for inputs up to {@link JS_LIMIT}). */
export function sha256HexJs(data: Buffer): string {
  const padded = Buffer.alloc((((data.length + 8) >> 6) + 1) * 64);
  data.copy(padded);
  padded[data.length] = 0x80;
  const bits = data.length * 8;
  padded.writeUInt32BE(Math.floor(bits / 0x100000000), padded.length - 8);
  padded.writeUInt32BE(bits >>> 0, padded.length - 4);
  const h = Int32Array.from(INITIAL);
  blocks(h, new Int32Array(64), padded);
  const out = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) out.writeInt32BE(h[i] as number, i * 4);
  return out.toString('hex');
}

/** The SHA-256 of a buffer or UTF-8 string as lowercase hex: in JavaScript when small and within the budget, else node:crypto. */
export function sha256Hex(data: Buffer | string): string {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (buf.length > JS_LIMIT || buf.length > jsBudget) return createHash('sha256').update(buf).digest('hex');
  jsBudget -= buf.length;
  return sha256HexJs(buf);
}

/** An incremental SHA-256 for data that is usually small (see the file header). */
export interface SmallHasher {
  /** Adds bytes (a string as UTF-8); returns the hasher. */
  update(data: Buffer | string): SmallHasher;
  /** The lowercase hex digest; call once. */
  digest(): string;
}

/** A SmallHasher: collects input up to JS_LIMIT, then streams into node:crypto. */
export function smallHasher(): SmallHasher {
  let parts: Buffer[] = [];
  let size = 0;
  let big: Hash | undefined;
  const self: SmallHasher = {
    update(data) {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      if (big !== undefined) {
        big.update(buf);
        return self;
      }
      parts.push(buf);
      size += buf.length;
      if (size > JS_LIMIT) {
        big = createHash('sha256');
        for (const p of parts) big.update(p);
        parts = [];
      }
      return self;
    },
    digest() {
      return big !== undefined ? big.digest('hex') : sha256Hex(Buffer.concat(parts, size));
    },
  };
  return self;
}

/** Helpers shared by pull and push: bounded concurrency and a verifying pass-through. */
import { Transform, type TransformCallback } from 'node:stream';
import { SlipwayError } from '../errors.js';
import { newHasher, type Digest } from '../oci/digest.js';

/**
 * Runs `fn` over `items` with at most `limit` in flight. The first failure
 * is thrown after the running ones settle (`onFail` runs at once, e.g. to
 * abort the others); results are in input order.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>, onFail?: () => void): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        if (failure === undefined) {
          failure = { err };
          onFail?.();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure.err;
  return results;
}

/** Size of the pieces VerifyStream passes on. */
const COALESCE = 1 << 20;

/**
 * A pass-through that hashes and counts what flows and fails at the end
 * unless the bytes have exactly the expected size and digest; it also
 * fails as soon as more bytes than expected arrive. `onBytes` sees the
 * running total (progress). With `sizeOnly`, only the size is checked
 * here: the caller must verify the digest of the same bytes itself (pull
 * does, for an uncompressed layer whose digest is its diff ID). Small
 * network chunks leave coalesced into pieces of COALESCE bytes, so that
 * what follows (zlib, hashing thread, disk writes) works on large pieces.
 */
export class VerifyStream extends Transform {
  private readonly hash = newHasher();
  private count = 0;
  private pending: Buffer | undefined;
  private used = 0;

  constructor(private readonly expected: { digest: Digest; size: number }, private readonly what: string, private readonly onBytes?: (n: number) => void, private readonly sizeOnly = false) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.expected.size) {
      cb(new SlipwayError('DIGEST_MISMATCH', `${this.what}: more than the expected ${this.expected.size} bytes arrived`));
      return;
    }
    if (!this.sizeOnly) this.hash.update(chunk);
    this.onBytes?.(this.count);
    this.coalesce(chunk);
    cb();
  }

  private coalesce(chunk: Buffer): void {
    if (this.used === 0 && chunk.length >= COALESCE) {
      this.push(chunk);
      return;
    }
    let off = 0;
    while (off < chunk.length) {
      this.pending ??= Buffer.allocUnsafe(COALESCE);
      const n = chunk.copy(this.pending, this.used, off);
      off += n;
      this.used += n;
      if (this.used === COALESCE) this.emitPending();
    }
  }

  private emitPending(): void {
    if (this.pending === undefined || this.used === 0) return;
    this.push(this.used === this.pending.length ? this.pending : this.pending.subarray(0, this.used));
    this.pending = undefined;
    this.used = 0;
  }

  override _flush(cb: TransformCallback): void {
    this.emitPending();
    if (this.count !== this.expected.size) {
      cb(new SlipwayError('DIGEST_MISMATCH', `${this.what}: truncated: ${this.count} of ${this.expected.size} bytes arrived`));
      return;
    }
    if (this.sizeOnly) {
      cb();
      return;
    }
    const got = `sha256:${this.hash.digest('hex')}`;
    if (got !== this.expected.digest) {
      cb(new SlipwayError('DIGEST_MISMATCH', `${this.what}: the registry sent content with digest ${got}, expected ${this.expected.digest}`));
      return;
    }
    cb();
  }
}

/** A short layer ID as Docker prints it in progress lines (12 hex characters). */
export function shortDigest(d: string): string {
  return (d.startsWith('sha256:') ? d.slice(7) : d).slice(0, 12);
}

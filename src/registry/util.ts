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

/**
 * A pass-through that hashes and counts what flows and fails at the end
 * unless the bytes have exactly the expected size and digest; it also
 * fails as soon as more bytes than expected arrive. `onBytes` sees the
 * running total (progress).
 */
export class VerifyStream extends Transform {
  private readonly hash = newHasher();
  private count = 0;

  constructor(private readonly expected: { digest: Digest; size: number }, private readonly what: string, private readonly onBytes?: (n: number) => void) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.expected.size) {
      cb(new SlipwayError('DIGEST_MISMATCH', `${this.what}: more than the expected ${this.expected.size} bytes arrived`));
      return;
    }
    this.hash.update(chunk);
    this.onBytes?.(this.count);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.count !== this.expected.size) {
      cb(new SlipwayError('DIGEST_MISMATCH', `${this.what}: truncated: ${this.count} of ${this.expected.size} bytes arrived`));
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

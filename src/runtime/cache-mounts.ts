/**
 * Persistent cache directories for `RUN --mount=type=cache`, kept between
 * builds under `<root>/cache-mounts/<sha256(id)>/<instance>/`. Sharing as
 * BuildKit: `shared` (every user gets instance 0 at once), `locked` (one
 * user at a time waits for instance 0), `private` (a user takes the first
 * free instance, making a new one when all are busy). A new directory gets
 * the mount's uid, gid and mode (default 0:0, 0755).
 */
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { SlipwayError, isSlipwayError } from '../errors.js';
import { withLock } from '../store/lock.js';

/** A cache mount request. */
export interface CacheMountRequest {
  id: string;
  sharing: 'shared' | 'private' | 'locked';
  uid?: number;
  gid?: number;
  mode?: number;
}

/** The directory holding every cache mount of a store (removed by `builder prune -a` callers). */
export function cacheMountsDir(root: string): string {
  return join(root, 'cache-mounts');
}

async function prepare(dir: string, req: CacheMountRequest): Promise<void> {
  const exists = await stat(dir).then(() => true, () => false);
  if (exists) return;
  await mkdir(dir, { recursive: true });
  await chown(dir, req.uid ?? 0, req.gid ?? 0);
  await chmod(dir, req.mode ?? 0o755);
}

/**
 * Runs `fn` with the cache directories of `reqs` (in order), each held as its
 * sharing mode asks until `fn` settles.
 */
export async function withCacheMounts<T>(root: string, reqs: readonly CacheMountRequest[], fn: (dirs: string[]) => Promise<T>): Promise<T> {
  const dirs: string[] = [];
  const next = async (i: number): Promise<T> => {
    const req = reqs[i];
    if (!req) return fn(dirs);
    const base = join(cacheMountsDir(root), createHash('sha256').update(req.id).digest('hex'));
    if (req.sharing === 'shared') {
      const dir = join(base, '0');
      await prepare(dir, req);
      dirs.push(dir);
      return next(i + 1);
    }
    if (req.sharing === 'locked') {
      const dir = join(base, '0');
      await prepare(dir, req);
      dirs.push(dir);
      return withLock(`${dir}.lock`, () => next(i + 1), { timeoutMs: 3_600_000 });
    }
    for (let n = 0; ; n++) {
      const dir = join(base, `p${n}`);
      await mkdir(base, { recursive: true });
      let started = false;
      try {
        return await withLock(`${dir}.lock`, async () => {
          started = true;
          await prepare(dir, req);
          dirs.push(dir);
          return next(i + 1);
        }, { timeoutMs: 0 });
      } catch (err) {
        if (started || !isSlipwayError(err, 'CONFLICT')) throw err;
        if (n > 1000) throw new SlipwayError('RUNTIME', `too many private instances of cache ${req.id}`);
      }
    }
  };
  return next(0);
}

/**
 * A cross-process exclusive lock built on O_EXCL file creation.
 *
 * The lock file holds "<pid> <token>". A lock whose owner process is gone is
 * stale and is broken under a second, short-lived "steal" lock, and only if
 * its content is still the stale content that was observed, so two processes
 * can never both believe they hold the lock.
 */
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { SlipwayError, isErrno } from '../errors.js';
import { uniqueSuffix } from './unique.js';

/** Options of withLock. */
export interface LockOptions {
  /** Give up after this many milliseconds (default 120 s). */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True when a process with this pid exists (EPERM counts as existing). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

/**
 * Creates `path` holding `content`, atomically: the content is written to a
 * private file first and hard-linked into place, so a reader never sees an
 * empty lock file. Returns false when `path` exists. (Synchronous, as the
 * other steps on these few-byte files: a trip through the thread pool per
 * step would cost more than the step.)
 */
function tryCreate(path: string, content: string): boolean {
  const tmp = `${path}.${uniqueSuffix()}`;
  try {
    writeFileSync(tmp, content, { flag: 'wx', mode: 0o644 });
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw new SlipwayError('IO', `cannot create lock ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    try { unlinkSync(tmp); } catch { /* never created */ }
  }
}

function readOwner(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** Breaks `path` if it still holds `stale` content; returns true if it did. */
function breakStale(path: string, stale: string): boolean {
  const steal = `${path}.steal`;
  if (!tryCreate(steal, `${process.pid}`)) {
    // A stealer that died mid-steal leaves its file; it is old after 10 s.
    const st = statSync(steal, { throwIfNoEntry: false });
    if (st && Date.now() - st.mtimeMs > 10_000) removeQuietly(steal);
    return false;
  }
  try {
    if (readOwner(path) !== stale) return false;
    removeQuietly(path);
    return true;
  } finally {
    removeQuietly(steal);
  }
}

function removeQuietly(path: string): void {
  try { unlinkSync(path); } catch { /* already gone */ }
}

/** Runs `fn` while holding the exclusive lock file `path`. */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const content = `${process.pid} ${uniqueSuffix()}`;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let delay = 2;
  for (;;) {
    if (tryCreate(path, content)) break;
    const owner = readOwner(path);
    const pid = Number(owner?.split(' ')[0]);
    if (owner !== undefined && !processAlive(pid) && breakStale(path, owner)) continue;
    if (Date.now() > deadline) {
      throw new SlipwayError('CONFLICT', `the store is locked by process ${pid} (${path}); try again when it has finished`);
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await fn();
  } finally {
    if (readOwner(path) === content) removeQuietly(path);
  }
}

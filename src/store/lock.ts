/**
 * A cross-process exclusive lock built on O_EXCL file creation.
 *
 * The lock file holds "<pid> <token>". A lock whose owner process is gone is
 * stale and is broken under a second, short-lived "steal" lock, and only if
 * its content is still the stale content that was observed, so two processes
 * can never both believe they hold the lock.
 */
import { link, readFile, unlink, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { SlipwayError, isErrno } from '../errors.js';

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
 * empty lock file. Returns false when `path` exists.
 */
async function tryCreate(path: string, content: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, content, { flag: 'wx', mode: 0o644 });
    await link(tmp, path);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw new SlipwayError('IO', `cannot create lock ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function readOwner(path: string): Promise<string | undefined> {
  try { return await readFile(path, 'utf8'); } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** Breaks `path` if it still holds `stale` content; returns true if it did. */
async function breakStale(path: string, stale: string): Promise<boolean> {
  const steal = `${path}.steal`;
  if (!(await tryCreate(steal, `${process.pid}`))) {
    // A stealer that died mid-steal leaves its file; it is old after 10 s.
    const st = await stat(steal).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 10_000) await unlink(steal).catch(() => undefined);
    return false;
  }
  try {
    if ((await readOwner(path)) !== stale) return false;
    await unlink(path).catch(() => undefined);
    return true;
  } finally {
    await unlink(steal).catch(() => undefined);
  }
}

/** Runs `fn` while holding the exclusive lock file `path`. */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const content = `${process.pid} ${randomBytes(8).toString('hex')}`;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let delay = 2;
  for (;;) {
    if (await tryCreate(path, content)) break;
    const owner = await readOwner(path);
    const pid = Number(owner?.split(' ')[0]);
    if (owner !== undefined && !processAlive(pid) && (await breakStale(path, owner))) continue;
    if (Date.now() > deadline) {
      throw new SlipwayError('CONFLICT', `the store is locked by process ${pid} (${path}); try again when it has finished`);
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await fn();
  } finally {
    if ((await readOwner(path)) === content) await unlink(path).catch(() => undefined);
  }
}

/**
 * Paths inside a container's rootfs, resolved on the host without ever
 * leaving the rootfs: symlinks (absolute or relative, in any component) are
 * followed as the container would see them, with `root` as `/` (the scoping
 * of filepath-securejoin, which runc uses for mount destinations).
 */
import { lstat, mkdir, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { isErrno } from '../errors.js';

const MAX_LINKS = 255;

/**
 * The host path of `path` inside `root`, every symlink resolved inside
 * `root`. Missing components are kept as they are (the result may not exist).
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  let pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = posix.join(root, ...done, part);
    let target: string | undefined;
    try {
      if ((await lstat(host)).isSymbolicLink()) target = await readlink(host);
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw err;
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`too many symlinks resolving ${path}`);
    if (target.startsWith('/')) done.length = 0;
    pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
  }
  return posix.join(root, ...done);
}

/** True when `path` exists inside `root` (symlinks followed inside root). */
export async function existsInRoot(root: string, path: string): Promise<boolean> {
  try {
    await lstat(await resolveInRoot(root, path));
    return true;
  } catch {
    return false;
  }
}

/** `mkdir -p` of `path` inside `root` (new directories: mode 0755, owned by the caller). */
export async function mkdirInRoot(root: string, path: string): Promise<string> {
  const host = await resolveInRoot(root, path);
  await mkdir(host, { recursive: true, mode: 0o755 });
  return host;
}

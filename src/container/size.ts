/** The size of a container's writable layer (Docker's SizeRw): the bytes of the regular files in its upper directory. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { containerDir } from './records.js';

async function walk(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await walk(p);
    else if (e.isFile()) total += (await lstat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** Bytes of regular files the container has written (0 for a container without changes). */
export function containerSize(root: string, id: string): Promise<number> {
  return walk(join(containerDir(root, id), 'upper'));
}

/**
 * Node built-ins that cost start-up time, loaded on first use instead of at
 * import: `child_process` (which loads `net` and `dgram` too) and `zlib`.
 * A command that never spawns or compresses (a cached build, `images`)
 * never loads them.
 */
import { createRequire } from 'node:module';

type ChildProcess = typeof import('node:child_process');
type Zlib = typeof import('node:zlib');

const load = createRequire(import.meta.url);
let childProcessModule: ChildProcess | undefined;
let zlibModule: Zlib | undefined;

/** node:child_process, loaded on the first call. */
export function childProcess(): ChildProcess {
  return (childProcessModule ??= load('node:child_process') as ChildProcess);
}

/** node:zlib, loaded on the first call. */
export function zlib(): Zlib {
  return (zlibModule ??= load('node:zlib') as Zlib);
}

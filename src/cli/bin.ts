/**
 * The slipway executable (dist/slipway.js): loads the CLI bundle
 * (dist/slipway.cjs, built from main.ts) through V8's code cache, so a
 * command does not parse and compile its code again on every start (about
 * 20 ms of a 100 ms command here; Node 20 has no compile cache of its own).
 *
 * Each command word keeps its own cache file, made at the end of its first
 * run (it then holds every function that run compiled), under
 * `$XDG_CACHE_HOME/slipway/code-cache/<bundle hash>-<node version>/`
 * (`~/.cache` without XDG_CACHE_HOME). A cache V8 rejects is made again; a
 * cache directory that cannot be written is simply not used. Making a new
 * directory removes those of other bundles not written for a day.
 * SLIPWAY_CODE_CACHE=0 turns it off.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** sha256 of dist/slipway.cjs, put here by scripts/bundle.mjs (V8 checks only a cache's source length). */
declare const SLIPWAY_BUNDLE_HASH: string;

const here = dirname(fileURLToPath(import.meta.url));
const bundle = join(here, 'slipway.cjs');

/** The cache file for this invocation's command word, or undefined when caching is off. */
function cacheFile(argv: readonly string[]): string | undefined {
  if (process.env.SLIPWAY_CODE_CACHE === '0') return undefined;
  let word = 'other';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--root') i++;
    else if (!a.startsWith('-')) {
      if (/^[a-z_-]{1,24}$/.test(a)) word = a;
      break;
    }
  }
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'slipway', 'code-cache', `${SLIPWAY_BUNDLE_HASH.slice(0, 16)}-${process.version}-${process.arch}`, `${word}.bin`);
}

function readCache(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Removes the cache directories beside `dir` not modified for a day (other slipway builds). */
function pruneOldCaches(dir: string): void {
  const parent = dirname(dir);
  for (const name of readdirSync(parent)) {
    const other = join(parent, name);
    if (other !== dir && statSync(other).mtimeMs < Date.now() - 86_400_000) rmSync(other, { recursive: true, force: true });
  }
}

/** Writes the cache atomically at exit; any failure leaves things as they were. */
function saveCacheAtExit(script: Script, file: string): void {
  process.once('exit', () => {
    try {
      if (mkdirSync(dirname(file), { recursive: true }) !== undefined) pruneOldCaches(dirname(file));
      const tmp = `${file}.${process.pid}`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, file);
    } catch {
      // no cache this time
    }
  });
}

const file = cacheFile(process.argv.slice(2));
const cachedData = readCache(file);
// ASCII only (scripts/bundle.mjs checks): latin1 is a plain copy, utf8 would validate 600 kB.
const source = readFileSync(bundle, 'latin1');
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: bundle,
  ...(cachedData ? { cachedData } : {}),
});
if (file !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) saveCacheAtExit(script, file);
const cjs = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void)(cjs.exports, createRequire(bundle), cjs, bundle, here);

/** `slipway build [OPTIONS] PATH | URL | -`: a Dockerfile and a context into an image in the store. */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { SlipwayError, isErrno } from '../../errors.js';
import { build } from '../../build/engine.js';
import { Progress } from '../../build/events.js';
import { contextFromTar, loadIgnore, openContext, StatCache } from '../../build/context/index.js';
import { detectCompression, peek } from '../../layer/compression.js';
import { parsePlatform } from '../../oci/platform.js';
import { sha256Hex } from '../../oci/sha256.js';
import { parseReference } from '../../oci/reference.js';
import { normalizeName } from '../../store/resolve.js';
import { createProgressRenderer, type ProgressMode } from '../progress/index.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';

/** `--build-arg K=V` and `--build-arg K` (taken from the environment when set). */
export function parseBuildArgs(flags: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq >= 0) out[f.slice(0, eq)] = f.slice(eq + 1);
    else if (env[f] !== undefined) out[f] = env[f] as string;
  }
  return out;
}

function parseLabels(flags: readonly string[]): Record<string, string> {
  return Object.fromEntries(flags.map((f) => {
    const eq = f.indexOf('=');
    return eq < 0 ? [f, ''] : [f.slice(0, eq), f.slice(eq + 1)];
  }));
}

function parseTags(flags: readonly string[]): string[] {
  return flags.map((t) => {
    try {
      return normalizeName(parseReference(t));
    } catch (err) {
      throw new SlipwayError('USAGE', `invalid argument "${t}" for "-t, --tag" flag: ${(err as Error).message}`, { cause: err, exitCode: 1 });
    }
  });
}

async function readAll(input: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of input) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(parts);
}

interface Source {
  contextDir: string;
  dockerfile: { text: string; name: string; path?: string };
  /** Temporary directory to remove afterwards. */
  tmp?: string;
}

async function tmpDir(ctx: CliContext): Promise<string> {
  await mkdir(join(ctx.root, 'tmp'), { recursive: true });
  return mkdtemp(join(ctx.root, 'tmp', `context-${process.pid}-`));
}

/** Where the context and the Dockerfile come from. */
async function openSource(ctx: CliContext, where: string, file: string | undefined): Promise<Source> {
  if (where === '-' || /^https?:\/\//.test(where)) {
    const input = where === '-' ? Readable.from(ctx.stdin as AsyncIterable<Buffer>) : await fetchBody(where);
    const { head, stream } = await peek(input, 512);
    const tmp = await tmpDir(ctx);
    if (detectCompression(head) !== 'none' || isTar(head)) {
      await contextFromTar({ input: stream, tmpDir: tmp });
      const name = file ?? 'Dockerfile';
      return { contextDir: tmp, tmp, dockerfile: { text: await readDockerfile(join(tmp, name), name), name, path: join(tmp, name) } };
    }
    return { contextDir: tmp, tmp, dockerfile: { text: (await readAll(stream)).toString('utf8'), name: 'Dockerfile' } };
  }
  const contextDir = resolve(where);
  if (file === '-') return { contextDir, dockerfile: { text: (await readAll(ctx.stdin)).toString('utf8'), name: 'Dockerfile' } };
  const path = file ? resolve(file) : join(contextDir, 'Dockerfile');
  return { contextDir, dockerfile: { text: await readDockerfile(path, file ?? 'Dockerfile'), name: file ? file.split('/').pop() as string : 'Dockerfile', path } };
}

function isTar(head: Buffer): boolean {
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

async function fetchBody(url: string): Promise<Readable> {
  // Loaded only for a context URL: the HTTP client (http, tls) costs start-up time.
  const { getUrl } = await import('../../registry/url-get.js');
  return (await getUrl(url, (reason) => `unable to prepare context: ${url}: ${reason}`)).body;
}

/** Reads the Dockerfile (synchronously: a few kB, where the thread pool and node:fs/promises cost more). */
async function readDockerfile(path: string, name: string): Promise<string> {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new SlipwayError('NOT_FOUND', `failed to read dockerfile: open ${name}: no such file or directory`, { cause: err });
    throw new SlipwayError('IO', `failed to read dockerfile ${name}: ${(err as Error).message}`, { cause: err });
  }
}

/** `--network`: host (default), none, or default (= host). */
function parseNetwork(v: string | undefined): 'host' | 'none' | 'default' | undefined {
  if (v === undefined) return undefined;
  if (v === 'host' || v === 'none' || v === 'default') return v;
  throw new SlipwayError('USAGE', `network mode "${v}" not supported by slipway build (use host or none)`, { exitCode: 1 });
}

/** `--secret` flags as id → path (the RUN module is loaded only when there are some). */
async function parseSecrets(flags: readonly string[]): Promise<Map<string, string>> {
  if (flags.length === 0) return new Map();
  const { parseSecretFlag } = await import('../../build/run-step.js');
  return new Map(flags.map((f) => {
    const s = parseSecretFlag(f);
    return [s.id, s.src] as const;
  }));
}

/**
 * Cleans up after crashed RUN steps. The runtime module (child_process, net)
 * is loaded only when the store's `runs/` folder has something in it.
 */
async function cleanupStaleRuns(root: string): Promise<void> {
  const runs = await readdir(join(root, 'runs')).catch(() => [] as string[]);
  if (runs.length === 0) return;
  const { cleanupStale } = await import('../../runtime/index.js');
  await cleanupStale(root).catch(() => undefined);
}

/** `slipway build` */
export async function buildCommand(ctx: CliContext, args: string[], opts: Opts): Promise<void> {
  const tags = parseTags((opts.tag as string[]) ?? []);
  const quiet = Boolean(opts.quiet);
  const source = await openSource(ctx, args[0] as string, opts.file as string | undefined);
  const mode = (quiet ? 'quiet' : (opts.progress as string | undefined) ?? 'auto') as ProgressMode;
  if (!['auto', 'plain', 'tty', 'quiet', 'rawjson'].includes(mode)) throw new SlipwayError('USAGE', `invalid progress mode "${mode}"`, { exitCode: 1 });
  const renderer = createProgressRenderer({ mode, get out() { return ctx.stderr as never; } });
  const store = ctx.store();
  const ignore = loadIgnore({ contextDir: source.contextDir, ...(source.dockerfile.path ? { dockerfilePath: source.dockerfile.path } : {}) });
  const cacheFile = join(ctx.root, 'contexts', `${sha256Hex(source.contextDir).slice(0, 32)}.json`);
  await mkdir(join(ctx.root, 'contexts'), { recursive: true });
  const statCache = StatCache.load(cacheFile);
  const network = parseNetwork(opts.network as string | undefined);
  const secrets = await parseSecrets((opts.secret as string[]) ?? []);
  await cleanupStaleRuns(ctx.root);
  const abort = new AbortController();
  // First signal: kill the running RUN and unwind (mounts, run dirs, staged blobs); a
  // second one, or 5 s without an exit, ends the process the default way.
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    const again = abort.signal.aborted;
    signalled = sig;
    abort.abort();
    const die = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.kill(process.pid, sig);
    };
    if (again) die();
    else setTimeout(die, 5000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let ok = false;
  try {
    const res = await build({
      store, dockerfile: source.dockerfile, tags, buildArgs: parseBuildArgs((opts.buildArg as string[]) ?? []),
      ...(opts.target ? { target: opts.target as string } : {}), noCache: Boolean(opts.cache === false), pull: Boolean(opts.pull),
      noCacheFilter: (opts.noCacheFilter as string[]) ?? [], labels: parseLabels((opts.label as string[]) ?? []),
      ...(opts.platform ? { platform: parsePlatform(opts.platform as string) } : {}),
      progress: new Progress(renderer.reporter), context: openContext({ dir: source.contextDir, ignore }), statCache,
      ...(network ? { network } : {}), secrets, signal: abort.signal,
    });
    ok = true;
    statCache.save();
    if (opts.iidfile) await writeFile(opts.iidfile as string, res.id);
    if (quiet) await ctx.out(`${res.id}\n`);
  } catch (err) {
    // Interrupted: exit as a shell reports a process killed by that signal.
    if (signalled && err instanceof SlipwayError) throw new SlipwayError(err.code, err.message, { cause: err, exitCode: signalled === 'SIGINT' ? 130 : 143 });
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await renderer.finish(ok);
    if (source.tmp) await rm(source.tmp, { recursive: true, force: true });
  }
}

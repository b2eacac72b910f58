/** `run`: create a container from an image and start it, attached (exit status = the container's) or detached (`-d`, prints the ID). */
import { readFile } from 'node:fs/promises';
import { SlipwayError } from '../../errors.js';
import { createContainer } from '../../container/create.js';
import { reconcile, spawnMonitor, type PendingMonitor } from '../../container/lifecycle.js';
import { parsePublish } from '../../container/ports.js';
import type { PortBinding } from '../../container/records.js';
import { bindMount } from '../../container/rootfs.js';
import { validateName } from '../../container/names.js';
import { removeContainerDir } from '../../container/records.js';
import { selectRuntime, type NetworkMode, type RuntimeName } from '../../runtime/index.js';
import { findImage, noSuchImage } from '../../store/resolve.js';
import { familiarString, parseReference, withDefaultTag } from '../../oci/reference.js';
import { write, type CliContext } from '../context.js';
import type { Opts } from '../program.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** go-units RAMInBytes: `512m`, `1g`, `1.5GB`, bytes. */
export function parseMemory(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$/i.exec(s.trim());
  if (!m) throw new SlipwayError('INVALID_ARGUMENT', `invalid argument "${s}" for "-m, --memory" flag: invalid size: '${s}'`, { exitCode: 125 });
  const bytes = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
  if (bytes > 0 && bytes < 6 * 1024 * 1024) throw new SlipwayError('INVALID_ARGUMENT', 'Minimum memory limit allowed is 6MB', { exitCode: 125 });
  return bytes;
}

/** `-e` and `--env-file` values: `K=V` as is, `K` from our environment (dropped when unset). */
export async function envValues(env: string[], files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const text = await readFile(f, 'utf8').catch((err: unknown) => {
      throw new SlipwayError('INVALID_ARGUMENT', `open ${f}: no such file or directory`, { cause: err, exitCode: 125 });
    });
    for (const line of text.split('\n')) {
      const l = line.replace(/^\s+/, '');
      if (l && !l.startsWith('#')) out.push(l.replace(/\r$/, ''));
    }
  }
  out.push(...env);
  return out.flatMap((e) => {
    if (e.includes('=')) return [e];
    const v = process.env[e];
    return v === undefined ? [] : [`${e}=${v}`];
  });
}

function networkOf(v: string | undefined): NetworkMode {
  const n = v ?? 'private';
  if (n === 'default' || n === 'bridge') return 'private';
  if (n !== 'host' && n !== 'none' && n !== 'private') {
    throw new SlipwayError('NOT_FOUND', `network ${n} not found (slipway has host, none and private)`, { exitCode: 125 });
  }
  return n;
}

async function resolveRunImage(ctx: CliContext, word: string) {
  const store = ctx.store();
  const found = findImage(await store.list(), word);
  if (!found) {
    let shown = word;
    try {
      shown = familiarString(withDefaultTag(parseReference(word)));
    } catch {
      // as typed
    }
    await write(ctx.stderr, `Unable to find image '${shown}' locally\n`);
    throw new SlipwayError('NOT_FOUND', `${noSuchImage(word).message} (slipway run does not pull: use slipway pull)`, { exitCode: 125 });
  }
  return { record: found.record, config: await store.config(found.record) };
}

/** `--runtime`: the runtimes slipway drives; anything else is Docker's "Unknown runtime specified" (a daemon-side error). */
export function runtimeName(v: unknown): RuntimeName | undefined {
  if (v === undefined) return undefined;
  if (v === 'runc' || v === 'crun') return v;
  throw new SlipwayError('INVALID_ARGUMENT', `Unknown runtime specified ${String(v)}`, { exitCode: 125 });
}

/** Options of run/create checked on the client side (Docker's CLI: printed as `docker: MSG` without "Error response from daemon"). */
interface Parsed {
  imageWord: string;
  cmd: string[];
  detach: boolean;
  tty: boolean;
  interactive: boolean;
  network: NetworkMode;
  ports: PortBinding[];
  binds: string[];
  name: string | undefined;
  env: string[];
  memory: number;
}

async function parseRunOptions(args: string[], opts: Opts, detach: boolean): Promise<Parsed> {
  const [imageWord, ...cmd] = args as [string, ...string[]];
  const ports = ((opts.publish as string[]) ?? []).flatMap(parsePublish);
  const memory = opts.memory ? parseMemory(opts.memory as string) : 0;
  const env = await envValues((opts.env as string[]) ?? [], (opts.envFile as string[]) ?? []);
  return {
    imageWord, cmd, detach, tty: Boolean(opts.tty), interactive: Boolean(opts.interactive), network: networkOf(opts.network as string | undefined),
    ports, binds: (opts.volume as string[]) ?? [], name: undefined, env, memory,
  };
}

/** A run/create failure as Docker's CLI prints it: `slipway: MSG`, a blank line, where to get help. */
async function reportRunError(ctx: CliContext, command: string, err: unknown, daemon: boolean): Promise<number> {
  if (!(err instanceof SlipwayError) || err.code === 'USAGE') throw err;
  const text = daemon ? `Error: ${err.message}` : err.message;
  if (command === 'create' && daemon) {
    await write(ctx.stderr, `${text}\n`);
    return 1;
  }
  await write(ctx.stderr, `slipway: ${text}\n\nRun 'slipway ${command} --help' for more information\n`);
  return err.exitCode ?? 125;
}

/** Checks what the daemon would check before creating: runtime name, bind sources, container name. */
async function daemonChecks(p: Parsed, opts: Opts): Promise<{ runtime: RuntimeName | undefined; name: string | undefined }> {
  const runtime = runtimeName(opts.runtime);
  await Promise.all(p.binds.map(bindMount));
  const name = opts.name !== undefined ? validateName(opts.name as string) : undefined;
  return { runtime, name };
}

/** `slipway run [OPTIONS] IMAGE [COMMAND] [ARG...]` */
export async function runCommand(ctx: CliContext, args: string[], opts: Opts): Promise<number> {
  const detach = Boolean(opts.detach);
  if (opts.tty && opts.interactive && !detach && !process.stdin.isTTY) throw new SlipwayError('INVALID_ARGUMENT', 'the input device is not a TTY', { exitCode: 1 });
  let p: Parsed;
  try {
    p = await parseRunOptions(args, opts, detach);
  } catch (err) {
    return reportRunError(ctx, 'run', err, false);
  }
  if (p.ports.length > 0 && p.network === 'host') await write(ctx.stderr, 'WARNING: Published ports are discarded when using host network mode\n');
  let pending: PendingMonitor | undefined;
  try {
    const { runtime, name } = await daemonChecks(p, opts);
    pending = spawnMonitor(ctx.root, { attach: !detach, interactive: p.interactive });
    return await runWith(ctx, pending, { ...p, name }, runtime, opts);
  } catch (err) {
    pending?.abort();
    return reportRunError(ctx, 'run', err, true);
  }
}

/** `slipway create [OPTIONS] IMAGE [COMMAND] [ARG...]`: the container's records only (state `created`); prints its ID. */
export async function createCommand(ctx: CliContext, args: string[], opts: Opts): Promise<number> {
  let p: Parsed;
  try {
    p = await parseRunOptions(args, opts, true);
  } catch (err) {
    return reportRunError(ctx, 'create', err, false);
  }
  try {
    const { runtime, name } = await daemonChecks(p, opts);
    await reconcile(ctx.root);
    const c = await createFrom(ctx, { ...p, name, detach: false }, runtime, opts);
    await ctx.out(`${c.record.id}\n`);
    return 0;
  } catch (err) {
    return reportRunError(ctx, 'create', err, true);
  }
}

/** Resolves the image and the runtime and creates the container's records. */
async function createFrom(ctx: CliContext, p: Parsed, prefer: RuntimeName | undefined, opts: Opts) {
  const { imageWord, cmd, detach, tty, interactive, network, ports, binds, name, env, memory } = p;
  const [image, runtime] = await Promise.all([
    resolveRunImage(ctx, imageWord),
    selectRuntime({ skipVersion: true, ...(prefer ? { prefer } : {}) }).catch((err: unknown) => {
      throw new SlipwayError('RUNTIME', (err as Error).message, { cause: err, exitCode: 125 });
    }),
  ]);
  return createContainer(ctx.root, {
    imageName: imageWord, imageId: image.record.id, manifest: image.record.manifest.digest, image: image.config, cmd,
    ...(opts.entrypoint !== undefined ? { entrypoint: opts.entrypoint as string } : {}),
    env, ...(opts.user !== undefined ? { user: opts.user as string } : {}), ...(opts.workdir !== undefined ? { workdir: opts.workdir as string } : {}),
    ...(opts.hostname !== undefined ? { hostname: opts.hostname as string } : {}), ...(name !== undefined ? { name } : {}),
    tty, interactive, detach, binds, ports: network === 'private' ? ports : [], network, autoRemove: Boolean(opts.rm),
    memory, cpus: opts.cpus ? Number(opts.cpus) : 0, runtime,
  });
}

async function runWith(ctx: CliContext, pending: PendingMonitor, p: Parsed, runtime: RuntimeName | undefined, opts: Opts): Promise<number> {
  await reconcile(ctx.root);
  const c = await createFrom(ctx, p, runtime, opts);
  let started;
  try {
    started = await pending.go(c);
  } catch (err) {
    if (opts.rm) await removeContainerDir(ctx.root, c.record.id);
    throw err;
  }
  if (!started.ready.ok) {
    if (!p.detach) await new Promise((r) => (started.monitor.exitCode !== null ? r(null) : started.monitor.once('exit', r)));
    throw new SlipwayError('RUNTIME', started.ready.error ?? 'the container did not start', { exitCode: started.ready.exitCode ?? 125 });
  }
  if (p.detach) {
    await ctx.out(`${c.record.id}\n`);
    return 0;
  }
  return waitAttached(started.monitor);
}

/** Waits for an attached container's monitor, forwarding our signals to it; resolves with the container's exit status. */
export function waitAttached(monitor: import('node:child_process').ChildProcess): Promise<number> {
  const forward = (sig: NodeJS.Signals) => () => {
    if (monitor.exitCode === null) monitor.kill(sig);
  };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const handlers = sigs.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return new Promise((resolve) => {
    const done = (code: number | null, sig: NodeJS.Signals | null) => {
      for (const [s, h] of handlers) process.off(s, h);
      resolve(code ?? (sig === 'SIGKILL' ? 137 : 128 + 15));
    };
    if (monitor.exitCode !== null) done(monitor.exitCode, null);
    else monitor.once('exit', done);
  });
}

/**
 * RUN: the command runs in a sandbox over the stage's layers (runc on an
 * overlayfs rootfs) and the diff of its upper directory becomes the layer,
 * as BuildKit does it. The step is cached by its parent filesystem, the
 * command as BuildKit prints it in the history, env, user, workdir, network
 * and mounts (with the content checksum of bind sources); secrets are never
 * part of the key, the layer or the history.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { execFile } from 'node:child_process';
import { SlipwayError } from '../errors.js';
import type { BuildDefinition, Instruction, RunMount } from '../dockerfile/index.js';
import {
  Sandbox, builderHosts, resolvConf, resolveInRoot, withCacheMounts, type CacheMountRequest, type NetworkMode, type RuntimeInfo,
  type SandboxFile, type SpecMount,
} from '../runtime/index.js';
import { cacheKey } from './cache.js';
import { checksumSources, resolveSources, type BuildContext, type StatCache } from './context/index.js';
import type { Progress, Vertex } from './events.js';
import type { StageState } from './state.js';
import { layerStep, type StepContext } from './steps.js';

type RunInstruction = Extract<Instruction, { kind: 'run' }>;

/** The hostname BuildKit gives RUN containers. */
export const BUILD_HOSTNAME = 'buildkitsandbox';

/** What the RUN executor of a build needs. */
export interface RunDriverOptions {
  def: BuildDefinition;
  context: BuildContext;
  statCache: StatCache;
  /** The unpacked filesystem of a stage or image named by `--mount from=`, and its cache key. */
  fromDir: (from: string) => Promise<{ dir: string; key: string }>;
  /** `build --network` (default host). */
  network?: 'host' | 'none' | 'default';
  /** `build --secret id=ID,src=PATH`: secret id → file. */
  secrets?: ReadonlyMap<string, string>;
  /** Aborted when the build is interrupted: the running container is killed. */
  signal?: AbortSignal;
  /** The runtime (selected once, on the first RUN, when not given). */
  runtime?: RuntimeInfo;
  /** A directory for temporary copies (read-write binds). */
  tmpRoot: string;
}

/** BuildKit's runCommandString: `|N K=V ...` for the stage's build args, then the argv. */
export function runCommandString(args: readonly string[], buildArgs: readonly { key: string; value?: string }[], env: Readonly<Record<string, string>>): string {
  const pairs = new Map<string, string>();
  for (const a of buildArgs) pairs.set(a.key, Object.prototype.hasOwnProperty.call(env, a.key) ? env[a.key] as string : a.value ?? '');
  const prefix = pairs.size > 0 ? [`|${pairs.size}`, ...[...pairs].map(([k, v]) => `${k}=${v}`)] : [];
  return [...prefix, ...args].join(' ');
}

/** The ARG declarations of the stage before `ins` (BuildKit's d.buildArgs). */
function stageBuildArgs(def: BuildDefinition, ins: RunInstruction): { key: string; value?: string }[] {
  const stage = def.stages.find((s) => s.instructions.includes(ins));
  const out: { key: string; value?: string }[] = [];
  for (const i of stage?.instructions ?? []) {
    if (i === ins) break;
    if (i.kind === 'arg') for (const a of i.args) out.push({ key: a.key, ...(a.value !== undefined ? { value: a.value } : {}) });
  }
  return out;
}

/** The process environment: the image's Env, the variables in scope (ENV and ARG), the proxy variables. */
function runEnv(state: StageState, ins: RunInstruction, proxy: Readonly<Record<string, string>>): { env: string[]; keyed: string[] } {
  const vars = new Map<string, string>();
  for (const e of state.config.config?.Env ?? []) {
    const eq = e.indexOf('=');
    vars.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1));
  }
  for (const [k, v] of Object.entries(ins.scope.env)) vars.set(k, v);
  const keyed = [...vars].map(([k, v]) => `${k}=${v}`);
  for (const [k, v] of Object.entries(proxy)) if (!vars.has(k)) vars.set(k, v);
  return { env: [...vars].map(([k, v]) => `${k}=${v}`), keyed };
}

/** A mount prepared for the sandbox, with its part of the cache key. */
interface PreparedMount {
  key: unknown;
  spec?: SpecMount;
  file?: SandboxFile;
  cache?: CacheMountRequest & { target: string; readOnly: boolean };
  /** A read-write bind of a source that must not change: copied first. */
  copyFrom?: string;
  env?: { name: string; value: string };
}

function copyTree(src: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('cp', ['-a', '--', src, dest], (err, _o, stderr) => (err ? reject(new SlipwayError('BUILD', `cannot copy ${src}: ${stderr.trim()}`)) : resolve()));
  });
}

async function prepareMount(m: RunMount, workdir: string, o: RunDriverOptions): Promise<PreparedMount> {
  const target = m.target === undefined ? undefined : posix.resolve(workdir, m.target);
  const ro = m.readOnly ? 'ro' : 'rw';
  switch (m.type) {
    case 'bind': {
      if (!target) throw new SlipwayError('BUILD', 'mount target is required for a bind mount');
      const source = m.source ?? '/';
      if (m.from !== undefined) {
        const from = await o.fromDir(m.from);
        const host = await resolveInRoot(from.dir, source);
        return { key: ['bind', from.key, source, target, m.readOnly], spec: { destination: target, type: 'bind', source: host, options: ['rbind', ro, 'rprivate'] }, ...(m.readOnly ? {} : { copyFrom: host }) };
      }
      const host = await resolveInRoot(o.context.dir, source);
      const rel = posix.relative(o.context.dir, host) || '.';
      const key = ['bind', 'context', source, target, m.readOnly, await contextChecksum(o, rel)];
      return { key, spec: { destination: target, type: 'bind', source: host, options: ['rbind', ro, 'rprivate'] }, ...(m.readOnly ? {} : { copyFrom: host }) };
    }
    case 'cache':
      if (!target) throw new SlipwayError('BUILD', 'mount target is required for a cache mount');
      if (m.from !== undefined) throw new SlipwayError('UNSUPPORTED', 'RUN --mount=type=cache,from=... is not supported yet');
      return {
        key: ['cache', m.id ?? target, target, m.sharing, m.readOnly, m.uid ?? null, m.gid ?? null, m.mode ?? null],
        cache: { id: m.id ?? target, sharing: m.sharing ?? 'shared', target, readOnly: m.readOnly, ...(m.uid !== undefined ? { uid: m.uid } : {}), ...(m.gid !== undefined ? { gid: m.gid } : {}), ...(m.mode !== undefined ? { mode: m.mode } : {}) },
      };
    case 'tmpfs':
      if (!target) throw new SlipwayError('BUILD', 'mount target is required for a tmpfs mount');
      return { key: ['tmpfs', target, m.size ?? null], spec: { destination: target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.size ? [`size=${m.size}`] : [])] } };
    case 'secret':
      return prepareSecret(m, target, o);
    default:
      throw new SlipwayError('UNSUPPORTED', `RUN --mount=type=${m.type} is not supported yet`);
  }
}

async function prepareSecret(m: RunMount, target: string | undefined, o: RunDriverOptions): Promise<PreparedMount> {
  const id = m.id ?? '';
  const key = ['secret', id, target ?? null, m.env ?? null, m.required, m.uid ?? null, m.gid ?? null, m.mode ?? null];
  const src = o.secrets?.get(id);
  if (src === undefined) {
    if (m.required) throw new SlipwayError('BUILD', `secret ${id}: not found`);
    return { key };
  }
  const content = await readFile(src).catch((err: unknown) => {
    throw new SlipwayError('BUILD', `secret ${id}: cannot read ${src}: ${(err as Error).message}`, { cause: err });
  });
  return {
    key,
    ...(target ? { file: { path: target, content, mode: m.mode ?? 0o400, uid: m.uid ?? 0, gid: m.gid ?? 0 } } : {}),
    ...(m.env ? { env: { name: m.env, value: content.toString('utf8') } } : {}),
  };
}

/** Content checksum of a context path for the cache key (the path's files, by content). */
async function contextChecksum(o: RunDriverOptions, rel: string): Promise<string> {
  const plan = resolveSources(o.context, { sources: [rel === '.' ? '.' : rel], dest: '/', workdir: '/', excludes: [], instruction: 'RUN --mount', destKind: () => 'dir' });
  return (await checksumSources(plan, { cache: o.statCache })).digest;
}

/** Line-splits output for the progress display and keeps its tail for errors. */
class OutputLog {
  private partial = '';
  readonly tail: string[] = [];

  constructor(private readonly vertex: () => Vertex | undefined) {}

  write(chunk: Buffer): void {
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) this.line(l);
  }

  end(): void {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
  }

  private line(l: string): void {
    this.vertex()?.log(l);
    this.tail.push(l);
    if (this.tail.length > 10) this.tail.shift();
  }
}

/** Makes the RUN executor of a build. */
export function runDriver(o: RunDriverOptions): (state: StageState, ins: RunInstruction, ctx: StepContext) => Promise<void> {
  return (state, ins, ctx) => runStep(state, ins, ctx, o);
}

async function runStep(state: StageState, ins: RunInstruction, ctx: StepContext, o: RunDriverOptions): Promise<void> {
  if (ins.security === 'insecure') throw new SlipwayError('UNSUPPORTED', 'RUN --security=insecure is not supported');
  const rc = state.config.config ?? {};
  const shell = rc.Shell && rc.Shell.length > 0 ? rc.Shell : ['/bin/sh', '-c'];
  const args = ins.exec.prependShell ? [...shell, ...ins.exec.args] : [...ins.exec.args];
  const workdir = rc.WorkingDir || '/';
  const user = rc.User ?? '';
  const wanted = ins.network ?? 'default';
  const network: NetworkMode = wanted === 'default' ? (o.network === 'none' ? 'none' : 'host') : wanted;
  const { env, keyed } = runEnv(state, ins, o.def.proxyEnv);
  const description = `RUN ${runCommandString(args, stageBuildArgs(o.def, ins), ins.scope.env)}`;
  const mounts = await Promise.all(ins.mounts.map((m) => prepareMount(m, workdir, o)));
  const key = cacheKey([state.fsKey, 'RUN', description, keyed, user, workdir, network, mounts.map((m) => m.key), ins.exec.files, ctx.epoch ?? null]);
  let vertex: Vertex | undefined;
  const progress = Object.create(ctx.progress) as Progress;
  progress.start = (name: string) => (vertex = ctx.progress.start(name));
  let sandbox: Sandbox | undefined;
  try {
    await layerStep(state, { ...ctx, progress }, {
      key, description, name: runStepName(ins),
      produce: async function* () {
        sandbox = await Sandbox.create({ root: ctx.store.root, layers: state.layers.map((l) => l.digest), openLayer: (d) => ctx.store.blobs.open(d), ...(o.runtime ? { runtime: o.runtime } : {}) });
        o.runtime ??= sandbox.runtime;
        const sb = sandbox;
        const log = new OutputLog(() => vertex);
        const res = await runWithMounts(sb, mounts, o, ctx.store.root, {
          args, env: [...env, ...mounts.flatMap((m) => (m.env ? [`${m.env.name}=${m.env.value}`] : []))], cwd: workdir, user, network,
          files: ins.exec.files.map((f) => ({ path: f.path, content: f.data, mode: f.mode })), log,
        });
        log.end();
        if (res.aborted || o.signal?.aborted) throw new SlipwayError('BUILD', 'the build was interrupted', { exitCode: 130 });
        if (res.exitCode !== 0) throw exitError(args, res.exitCode, log.tail, ins);
        yield* sb.diff(ctx.epoch !== undefined ? { clampMtime: ctx.epoch } : {});
      },
    });
    if (sandbox) await sandbox.keepAsSnapshot(state.layers.map((l) => l.digest)).catch(() => undefined);
  } finally {
    await sandbox?.release();
  }
}

/** RUN's progress name: the line as written (BuildKit does not expand RUN), keyword upper-cased. */
function runStepName(ins: RunInstruction): string {
  return ins.original.replace(/^\s*\S+/, (w) => w.trim().toUpperCase());
}

function exitError(args: string[], code: number, tail: string[], ins: RunInstruction): SlipwayError {
  const lines = tail.length > 0 ? `\n${runStepName(ins)} printed at the end:\n${tail.slice(-6).map((l) => `  ${l}`).join('\n')}` : '';
  return new SlipwayError('BUILD', `process "${args.join(' ')}" did not complete successfully: exit code: ${code}${lines}`, { exitCode: 1 });
}

interface RunParams {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  network: NetworkMode;
  files: SandboxFile[];
  log: OutputLog;
}

async function runWithMounts(sb: Sandbox, mounts: PreparedMount[], o: RunDriverOptions, root: string, p: RunParams) {
  const caches = mounts.filter((m) => m.cache).map((m) => m.cache as NonNullable<PreparedMount['cache']>);
  return withCacheMounts(root, caches, async (dirs) => {
    const specs: SpecMount[] = [];
    let c = 0;
    for (const m of mounts) {
      if (m.cache) {
        specs.push({ destination: m.cache.target, type: 'bind', source: dirs[c++] as string, options: ['rbind', m.cache.readOnly ? 'ro' : 'rw', 'rprivate'] });
      } else if (m.spec) {
        let spec = m.spec;
        if (m.copyFrom) {
          const copy = `${sb.dir}/rwbind-${specs.length}`;
          await copyTree(m.copyFrom, copy);
          spec = { ...spec, source: copy };
        }
        specs.push(spec);
      }
    }
    const files: SandboxFile[] = [
      { path: '/etc/hosts', content: builderHosts(BUILD_HOSTNAME) },
      { path: '/etc/resolv.conf', content: await resolvConf(p.network) },
      { path: '/etc/hostname', content: `${BUILD_HOSTNAME}\n` },
      ...p.files, ...mounts.flatMap((m) => (m.file ? [m.file] : [])),
    ];
    return sb.run({
      args: p.args, env: p.env, cwd: p.cwd, user: p.user, hostname: BUILD_HOSTNAME, network: p.network, files, mounts: specs,
      onOutput: (chunk) => p.log.write(chunk), ...(o.signal ? { signal: o.signal } : {}),
    });
  });
}

/** Parses `build --secret id=ID,src=PATH` (`source=` too; `type=file` only). */
export function parseSecretFlag(flag: string): { id: string; src: string } {
  const fields = Object.fromEntries(flag.split(',').map((f) => {
    const eq = f.indexOf('=');
    return eq < 0 ? [f, ''] : [f.slice(0, eq).trim().toLowerCase(), f.slice(eq + 1)];
  })) as Record<string, string>;
  if (fields.type !== undefined && fields.type !== 'file') throw new SlipwayError('USAGE', `unsupported secret type "${fields.type}"`, { exitCode: 1 });
  const id = fields.id ?? '';
  const src = fields.src ?? fields.source ?? '';
  if (!id) throw new SlipwayError('USAGE', `invalid secret "${flag}": id is required`, { exitCode: 1 });
  if (!src) throw new SlipwayError('USAGE', `invalid secret "${flag}": src is required`, { exitCode: 1 });
  return { id, src };
}


/**
 * Executing one instruction on a stage's state: metadata instructions change
 * the config and add a history entry; WORKDIR, COPY and ADD produce a layer
 * through the cache; RUN needs the container runtime.
 */
import { posix } from 'node:path';
import { SlipwayError } from '../errors.js';
import { envLookup, processWord, type Instruction } from '../dockerfile/index.js';
import { applyInstruction } from '../image/config-changes.js';
import type { Digest } from '../oci/digest.js';
import type { ContainerConfig } from '../oci/types.js';
import type { ImageStore } from '../store/image-store.js';
import { BuildCache, cacheKey, type CacheRecord } from './cache.js';
import type { Progress } from './events.js';
import { HISTORY_COMMENT, metadataCreatedBy } from './history.js';
import { keyOf, type LayerIndexCache } from './fs-view.js';
import { stageLayer, type LayerEntry } from './layer-writer.js';
import { stateFs, type StageState } from './state.js';
import { resolveOwner, type Owner } from './users.js';

/** What every step needs. */
export interface StepContext {
  store: ImageStore;
  cache: BuildCache;
  progress: Progress;
  /** SOURCE_DATE_EPOCH in seconds, when set. */
  epoch: number | undefined;
  now: () => Date;
  /** Skip cache lookups in this stage. */
  noCache: boolean;
  /** Layer indexes shared by every filesystem view of the build. */
  indexes: LayerIndexCache;
  /** Formats a step's progress name: `[stage 2/5] COPY . /app`. */
  stepName: (text: string) => string;
  /** Executes COPY and ADD (the build context and other stages). */
  copy: (state: StageState, ins: Extract<Instruction, { kind: 'copy' | 'add' }>, ctx: StepContext) => Promise<void>;
  /** Executes RUN in a container (build/run-step.ts). */
  run?: (state: StageState, ins: Extract<Instruction, { kind: 'run' }>, ctx: StepContext) => Promise<void>;
}

/**
 * The progress name of an instruction as BuildKit shows it: the line as
 * written, with variables expanded (and quotes processed) and the keyword
 * upper-cased; the line as written when it does not expand.
 */
export function stepText(ins: Instruction): string {
  let text = ins.original;
  try {
    text = processWord(ins.original, envLookup(ins.scope.env));
  } catch {
    // keep the line as written, as BuildKit's processCmdEnv does
  }
  return text.replace(/^\s*\S+/, (w) => w.trim().toUpperCase());
}

/** Runs one instruction, updating `state`. */
export async function runInstruction(state: StageState, ins: Instruction, ctx: StepContext): Promise<void> {
  switch (ins.kind) {
    case 'run':
      if (!ctx.run) throw new SlipwayError('UNSUPPORTED', 'RUN needs the container runtime, which this build was not given');
      return ctx.run(state, ins, ctx);
    case 'workdir':
      return workdir(state, ins, ctx);
    case 'copy':
    case 'add':
      return ctx.copy(state, ins, ctx);
    default:
      return metadata(state, ins, ctx);
  }
}

function epochIso(ctx: StepContext): string | undefined {
  return ctx.epoch === undefined ? undefined : new Date(ctx.epoch * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Applies a metadata instruction to a runtime config as BuildKit's dispatch
 * does (which differs from `commit --change`): CMD sets ArgsEscaped in both
 * forms, and ENTRYPOINT keeps a CMD set earlier in the same stage.
 * `cmdSet` says whether this stage has set CMD; returns the new value.
 */
export function applyBuildInstruction(rc: ContainerConfig, ins: Instruction, cmdSet: boolean): boolean {
  const keptCmd = rc.Cmd;
  applyInstruction(rc, ins);
  if (ins.kind === 'cmd') {
    rc.ArgsEscaped = true;
    return true;
  }
  if (ins.kind === 'entrypoint') rc.Cmd = cmdSet ? keptCmd : null;
  return cmdSet;
}

function metadata(state: StageState, ins: Instruction, ctx: StepContext): void {
  const rc = (state.config.config ??= {});
  if (ins.kind === 'maintainer') state.config.author = ins.maintainer;
  else state.cmdSet = applyBuildInstruction(rc, ins, state.cmdSet);
  const createdBy = metadataCreatedBy(ins, rc);
  if (createdBy === undefined) return;
  const created = epochIso(ctx);
  state.config.history = [...(state.config.history ?? []), {
    ...(created ? { created } : {}), created_by: createdBy, comment: HISTORY_COMMENT, empty_layer: true,
  }];
}

/** Options of layerStep. */
export interface LayerStepOptions {
  /**
   * The cache key, or a function computing it once the layer is produced
   * (a COPY whose content checksums come from the same pass that writes
   * the layer): the new layer is then dropped when the key has a record.
   */
  key: Digest | (() => Digest | Promise<Digest>);
  /** The history text without ` # buildkit`. */
  description: string;
  /** The progress name of the step. */
  name: string;
  /** Makes the layer's entries (only called on a cache miss). */
  produce: () => AsyncIterable<LayerEntry> | Iterable<LayerEntry>;
  /** Whether the history marks it `# buildkit` (steps that run an LLB op do). */
  buildkitSuffix?: boolean;
  /** Expected regular-file bytes of the layer (big layers hash on a worker thread). */
  sizeHint?: number;
}

/** Produces the layer; returns the record to use (a cached one when a late key turns out to have one). */
async function produceLayer(ctx: StepContext, opts: LayerStepOptions, description: string): Promise<{ rec: CacheRecord; cached: boolean }> {
  const { blob, layer } = await stageLayer(ctx.store.blobs, opts.produce(), opts.sizeHint !== undefined ? { sizeHint: opts.sizeHint } : {});
  let key: Digest;
  try {
    key = typeof opts.key === 'function' ? await opts.key() : opts.key;
    const found = typeof opts.key === 'function' && !ctx.noCache ? await ctx.cache.get(key) : undefined;
    if (found) {
      await ctx.store.blobs.discard(blob);
      ctx.cache.touch(found, ctx.now());
      return { rec: found, cached: true };
    }
    await ctx.store.blobs.commit(blob);
  } catch (err) {
    await ctx.store.blobs.discard(blob);
    throw err;
  }
  const now = ctx.now().toISOString();
  const rec: CacheRecord = { key, description, layer, createdAt: now, lastUsedAt: now, usageCount: 1 };
  await ctx.cache.put(rec);
  return { rec, cached: false };
}

/** A step that adds a layer: from the cache when its key is known, else produced and recorded. */
export async function layerStep(state: StageState, ctx: StepContext, opts: LayerStepOptions): Promise<void> {
  const v = ctx.progress.start(ctx.stepName(opts.name));
  const description = opts.buildkitSuffix === false ? opts.description : `${opts.description} # buildkit`;
  let rec: CacheRecord | undefined;
  try {
    rec = ctx.noCache || typeof opts.key === 'function' ? undefined : await ctx.cache.get(opts.key);
    if (rec) {
      v.cached();
      ctx.cache.touch(rec, ctx.now());
    } else {
      const made = await produceLayer(ctx, opts, description);
      rec = made.rec;
      if (made.cached) v.cached();
      else v.done();
    }
  } catch (err) {
    v.fail((err as Error).message);
    throw err;
  }
  const created = epochIso(ctx) ?? rec.createdAt;
  state.layers.push({ ...rec.layer, createdAt: created });
  state.fsKey = cacheKey(['fs', state.fsKey, rec.key]);
  state.config.history = [...(state.config.history ?? []), { created, created_by: description, comment: HISTORY_COMMENT }];
}

/** The owner created files get in this state (its USER, resolved), or root. */
export async function stateOwner(state: StageState, ctx: StepContext, spec = state.config.config?.User): Promise<Owner> {
  if (!spec) return { uid: 0, gid: 0 };
  return resolveOwner(spec, stateFs(ctx.store, state, ctx.indexes));
}

async function workdir(state: StageState, ins: Extract<Instruction, { kind: 'workdir' }>, ctx: StepContext): Promise<void> {
  const path = ins.path;
  const rc = (state.config.config ??= {});
  const wd = posix.resolve(rc.WorkingDir || '/', path);
  rc.WorkingDir = wd;
  if (wd === '/') {
    state.config.history = [...(state.config.history ?? []), { created_by: `WORKDIR ${wd}`, comment: HISTORY_COMMENT, empty_layer: true }];
    return;
  }
  // The key needs no lookup: what exists and who USER is follow from the filesystem's key.
  const user = rc.User ?? '';
  await layerStep(state, ctx, {
    key: cacheKey([state.fsKey, 'WORKDIR', wd, user]),
    description: `WORKDIR ${wd}`, buildkitSuffix: false, name: stepText(ins),
    produce: () => workdirEntries(state, ctx, wd, user),
  });
}

/** The layer of a WORKDIR: its missing directories (and the parent that gets the first one). */
async function* workdirEntries(state: StageState, ctx: StepContext, wd: string, user: string): AsyncGenerator<LayerEntry> {
  const owner = await stateOwner(state, ctx, user);
  const fs = stateFs(ctx.store, state, ctx.indexes);
  const parts = keyOf(wd).split('/');
  const missing: string[] = [];
  let parent: { name: string; mode: number; uid: number; gid: number } | undefined;
  for (let i = 1; i <= parts.length; i++) {
    const p = parts.slice(0, i).join('/');
    const h = await fs.lookup(p);
    if (h && h.type !== 'directory' && !(h.type === 'symlink')) {
      throw new SlipwayError('BUILD', `mkdir ${wd}: /${p} exists and is not a directory`);
    }
    if (!h) missing.push(p);
    else if (h.type === 'directory' && missing.length === 0 && i < parts.length) parent = { name: `${p}/`, mode: h.mode & 0o7777, uid: h.uid, gid: h.gid };
  }
  // The directory that gets the first new child changes (its mtime): BuildKit's diff carries it too.
  const touched = missing.length > 0 && parent !== undefined && `${missing[0]}`.startsWith(parent.name) ? [parent] : [];
  const mtime = ctx.epoch ?? Math.floor(ctx.now().getTime() / 1000);
  for (const d of touched) yield { header: { ...d, type: 'directory' as const, mtime } };
  for (const p of missing) yield { header: { name: `${p}/`, type: 'directory' as const, mode: 0o755, uid: owner.uid, gid: owner.gid, mtime } };
}

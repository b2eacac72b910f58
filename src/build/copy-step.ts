/**
 * COPY and ADD: sources from the build context (or another stage's or
 * image's filesystem), planned with Docker's semantics by build/context,
 * checksummed by content for the cache key, and written as one layer.
 */
import { posix } from 'node:path';
import { SlipwayError } from '../errors.js';
import type { Instruction } from '../dockerfile/index.js';
import {
  checksumSources, copyEntries, resolveSources, type BuildContext, type CopyEntriesOptions, type CopyPlan, type ExistingDir, type StatCache,
} from './context/index.js';
import { archiveEntries, archiveSources, keepOwners, mergeEntries } from './add-archive.js';
import { cacheKey } from './cache.js';
import type { LayerFs } from './fs-view.js';
import type { LayerEntry } from './layer-writer.js';
import { stateFs, type StageState } from './state.js';
import { layerStep, stepText, type StepContext } from './steps.js';
import { resolveOwner, type Owner } from './users.js';

type CopyInstruction = Extract<Instruction, { kind: 'copy' | 'add' }>;

/** Where COPY sources come from. */
export interface CopySources {
  /** The build context. */
  context: BuildContext;
  /** Stat cache of the context's file hashes (saved by the caller after the build). */
  statCache: StatCache;
  /** The filesystem of a stage or image named by --from, as a directory context. */
  fromContext: (from: string, ins: CopyInstruction) => Promise<BuildContext>;
  /** A directory for temporary files (ADD extracts archives there). */
  tmpRoot: string;
}

function destKindOf(fs: LayerFs) {
  return (abs: string) => {
    const h = fs.lookupSync(abs);
    if (!h) return undefined;
    return h.type === 'directory' ? ('dir' as const) : ('file' as const);
  };
}

function existingDirOf(fs: LayerFs) {
  return (abs: string): ExistingDir | undefined => {
    const h = fs.lookupSync(abs);
    return h && h.type === 'directory' ? { mode: h.mode, uid: h.uid, gid: h.gid, mtime: Math.floor(h.mtime) } : undefined;
  };
}

function parseChmod(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^[0-7]{1,4}$/.test(s)) throw new SlipwayError('BUILD', `invalid chmod parameter: '${s}'. it should be octal string and between 0 and 07777`);
  return parseInt(s, 8);
}

/** The history text BuildKit writes for COPY/ADD (without ` # buildkit`). */
export function copyCreatedBy(ins: CopyInstruction): string {
  let s = ins.kind === 'add' ? 'ADD' : 'COPY';
  if (ins.kind === 'copy' && ins.parents) s += ' --parents';
  if (ins.chown) s += ` --chown=${ins.chown}`;
  if (ins.chmod) s += ` --chmod=${ins.chmod}`;
  for (const src of ins.sources) s += ` ${src}`;
  for (const h of ins.inline) s += ` <<${h.path}`;
  return `${s} ${ins.dest}`;
}

/** Layer entries of heredoc files (mode 0644, as BuildKit's Mkfile). */
function inlineEntries(ins: CopyInstruction, workdir: string, owner: Owner, mode: number | undefined, mtime: number): LayerEntry[] {
  const destDir = ins.dest.endsWith('/') || ins.inline.length > 1;
  const base = posix.resolve(workdir, ins.dest);
  return ins.inline.map((h) => {
    const data = Buffer.from(h.data);
    const name = (destDir ? posix.join(base, h.path) : base).replace(/^\/+/, '');
    return { header: { name, type: 'file' as const, size: data.length, mode: mode ?? 0o644, uid: owner.uid, gid: owner.gid, mtime }, body: () => data };
  });
}

/** Makes the COPY/ADD executor of a build. */
export function copyDriver(src: CopySources): StepContext['copy'] {
  return async (state: StageState, ins: CopyInstruction, ctx: StepContext) => {
    if (ins.sources.some((s) => /^https?:\/\//.test(s))) {
      throw new SlipwayError('UNSUPPORTED', `${ins.kind.toUpperCase()} from a URL is not supported yet`);
    }
    const fs = await stateFs(ctx.store, state, ctx.indexes).prepare();
    const owner: Owner = ins.chown ? await resolveOwner(ins.chown, fs) : { uid: 0, gid: 0 };
    const chmod = parseChmod(ins.chmod);
    const workdir = state.config.config?.WorkingDir || '/';
    const context = ins.kind === 'copy' && ins.from !== undefined ? await src.fromContext(ins.from, ins) : src.context;
    let plan: CopyPlan | undefined;
    let sum = 'none';
    if (ins.sources.length > 0) {
      plan = resolveSources(context, {
        sources: ins.sources, dest: ins.dest, workdir, excludes: ins.excludes, instruction: ins.kind.toUpperCase(),
        ...(ins.kind === 'copy' && ins.parents ? { parents: true } : {}), destKind: destKindOf(fs),
      });
      sum = (await checksumSources(plan, context === src.context ? { cache: src.statCache } : {})).digest;
      for (const w of plan.warnings) ctx.progress.warn(w);
    }
    const now = Math.floor(ctx.now().getTime() / 1000);
    const mtime = ctx.epoch !== undefined ? Math.min(ctx.epoch, now) : now;
    const description = copyCreatedBy(ins);
    await layerStep(state, ctx, {
      key: cacheKey([state.fsKey, description, ins.kind === 'copy' ? ins.from ?? '' : '', workdir, owner, chmod ?? null, ins.excludes, sum, ins.inline, ctx.epoch ?? null]),
      description, name: stepText(ins),
      produce: async function* () {
        if (plan) {
          const copy = {
            ...(ins.chown ? { chown: owner } : {}), ...(chmod !== undefined ? { chmod } : {}),
            ...(ctx.epoch !== undefined ? { clampMtime: ctx.epoch } : {}), now: mtime, existingDir: existingDirOf(fs),
          };
          yield* planEntries(plan, { ins, copy, fromOther: context !== src.context, tmpRoot: src.tmpRoot, destKind: destKindOf(fs) });
        }
        yield* inlineEntries(ins, workdir, owner, chmod, mtime);
      },
    });
  };
}

interface PlanEntriesOptions {
  ins: CopyInstruction;
  copy: CopyEntriesOptions;
  /** Sources from another stage or image: their owners are kept (BuildKit copies them as they are). */
  fromOther: boolean;
  tmpRoot: string;
  destKind: (abs: string) => 'dir' | 'file' | undefined;
}

/** The layer entries of a plan: context files owned by root (or --chown), --from files by their owners, ADD archives extracted. */
async function* planEntries(plan: CopyPlan, o: PlanEntriesOptions): AsyncGenerator<LayerEntry> {
  const archives = o.ins.kind === 'add' ? await archiveSources(plan, o.ins.sources) : [];
  const rest: CopyPlan = archives.length === 0 ? plan : { ...plan, entries: plan.entries.filter((e) => !archives.includes(e)) };
  const main = keepOwners(copyEntries(rest, o.copy), rest, o.fromOther && o.copy.chown === undefined);
  if (archives.length === 0) {
    yield* main;
    return;
  }
  yield* mergeEntries([main, ...archives.map((a) => archiveEntries({ abs: a.abs, dest: plan.dest, tmpRoot: o.tmpRoot, destKind: o.destKind, copy: o.copy }))]);
}

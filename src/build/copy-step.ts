/**
 * COPY and ADD: sources from the build context (or another stage's or
 * image's filesystem), planned with Docker's semantics by build/context,
 * checksummed by content for the cache key, and written as one layer.
 */
import { posix } from 'node:path';
import { SlipwayError } from '../errors.js';
import type { Instruction } from '../dockerfile/index.js';
import {
  checksumSources, copyEntries, planBytes, resolveDest, resolveSources, StatCache, unknownBytes,
  type BuildContext, type CopyEntriesOptions, type CopyPlan, type DestKind, type ExistingDir,
} from './context/index.js';
import type { Digest } from '../oci/digest.js';
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

/**
 * Bytes a COPY must not know (stat cache) before it writes its layer first
 * and computes its key in the same pass. SLIPWAY_ONE_PASS_BYTES overrides it
 * (0: always; the test suites run both ways).
 */
const ONE_PASS_BYTES = Number(process.env.SLIPWAY_ONE_PASS_BYTES ?? 32 << 20);

/** The destination as a directory, nothing else known: the plan the checksum covers (the image's part follows from the fs key). */
function destAsDir(ins: CopyInstruction, workdir: string) {
  const dest = resolveDest(ins.dest, workdir).path;
  return (abs: string): DestKind | undefined => (abs === dest ? 'dir' : undefined);
}

/** Makes the COPY/ADD executor of a build. */
export function copyDriver(src: CopySources): StepContext['copy'] {
  return async (state: StageState, ins: CopyInstruction, ctx: StepContext) => {
    if (ins.sources.some((s) => /^https?:\/\//.test(s))) {
      throw new SlipwayError('UNSUPPORTED', `${ins.kind.toUpperCase()} from a URL is not supported yet`);
    }
    const chmod = parseChmod(ins.chmod);
    const workdir = state.config.config?.WorkingDir || '/';
    const context = ins.kind === 'copy' && ins.from !== undefined ? await src.fromContext(ins.from, ins) : src.context;
    const fromContext = context === src.context;
    const parents = ins.kind === 'copy' && ins.parents === true;
    const resolve = (destKind: (abs: string) => DestKind | undefined): CopyPlan => resolveSources(context, {
      sources: ins.sources, dest: ins.dest, workdir, excludes: ins.excludes, instruction: ins.kind.toUpperCase(), ...(parents ? { parents: true } : {}), destKind,
    });
    // The key needs no look at the image: the fs key, the instruction, the --chown spec and the sources' content.
    const keyPlan = ins.sources.length > 0 ? resolve(destAsDir(ins, workdir)) : undefined;
    const description = copyCreatedBy(ins);
    const cache = fromContext ? src.statCache : StatCache.memory();
    const known = new Map<string, string>();
    const keyOf = async (): Promise<Digest> => {
      const sum = keyPlan ? (await checksumSources(keyPlan, { cache, known })).digest : 'none';
      return cacheKey([state.fsKey, description, ins.kind === 'copy' ? ins.from ?? '' : '', workdir, ins.chown ?? '', chmod ?? null, ins.excludes, parents, sum, ins.inline, ctx.epoch ?? null]);
    };
    const bytes = keyPlan ? planBytes(keyPlan) : 0;
    // Most content unknown (a first build): write the layer, hashing the files as they are copied, then compute the key.
    const onePass = fromContext && keyPlan !== undefined && unknownBytes(keyPlan, cache, known) >= ONE_PASS_BYTES;
    let warned = false;
    await layerStep(state, ctx, {
      key: onePass ? keyOf : await keyOf(),
      description, name: stepText(ins), sizeHint: bytes,
      produce: async function* () {
        const fs = await stateFs(ctx.store, state, ctx.indexes).prepare();
        const owner: Owner = ins.chown ? await resolveOwner(ins.chown, fs) : { uid: 0, gid: 0 };
        const now = Math.floor(ctx.now().getTime() / 1000);
        const mtime = ctx.epoch !== undefined ? Math.min(ctx.epoch, now) : now;
        if (keyPlan) {
          const plan = resolve(destKindOf(fs));
          for (const w of plan.warnings) ctx.progress.warn(w);
          warned = true;
          const copy = {
            ...(ins.chown ? { chown: owner } : {}), ...(chmod !== undefined ? { chmod } : {}),
            ...(ctx.epoch !== undefined ? { clampMtime: ctx.epoch } : {}), now: mtime, existingDir: existingDirOf(fs),
          };
          const entries = planEntries(plan, { ins, copy, fromOther: !fromContext, tmpRoot: src.tmpRoot, destKind: destKindOf(fs) });
          yield* onePass ? hashing(entries, keyPlan, cache, known) : entries;
        }
        yield* inlineEntries(ins, workdir, owner, chmod, mtime);
      },
    });
    if (!warned && keyPlan) for (const w of keyPlan.warnings) ctx.progress.warn(w);
  };
}

/** Context files of `plan` get their content hashed as the layer copies them: into `known`, and the stat cache. */
async function* hashing(entries: AsyncIterable<LayerEntry>, plan: CopyPlan, cache: StatCache, known: Map<string, string>): AsyncGenerator<LayerEntry> {
  const stats = new Map(plan.entries.map((e) => [e.abs, e.stats]));
  for await (const e of entries) {
    const f = e.file;
    if (f === undefined) {
      yield e;
      continue;
    }
    yield {
      ...e, file: {
        ...f, onHash: (sha, start) => {
          known.set(f.abs, sha);
          const st = stats.get(f.abs);
          if (st) cache.set(f.abs, st, sha, start);
        },
      },
    };
  }
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

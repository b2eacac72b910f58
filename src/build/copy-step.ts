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
import type { RemoteSources } from './add-url.js';

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
    const isUrl = (s: string) => s.startsWith('http://') || s.startsWith('https://');
    if (ins.kind === 'copy' && ins.sources.some(isUrl)) throw new SlipwayError('BUILD', "source can't be a URL for COPY");
    const urls = ins.kind === 'add' ? ins.sources.filter(isUrl) : [];
    if (urls.length > 0 && ins.sources.length > 1 && !resolveDest(ins.dest).dirSyntax) {
      throw new SlipwayError('BUILD', 'When using ADD with more than one source file, the destination must be a directory and end with a /');
    }
    const sources = ins.sources.filter((s) => !urls.includes(s));
    const remote = urls.length > 0 ? await (await import('./add-url.js')).urlSources(urls, { checksum: ins.kind === 'add' ? ins.checksum : undefined, root: ctx.store.root, tmpRoot: src.tmpRoot }) : undefined;
    try {
      await copyStep(state, ins, ctx, { src, sources, remote });
    } finally {
      await remote?.close();
    }
  };
}

interface CopyStepOptions {
  src: CopySources;
  /** The sources that are not URLs. */
  sources: string[];
  /** ADD's URL sources. */
  remote: RemoteSources | undefined;
}

async function copyStep(state: StageState, ins: CopyInstruction, ctx: StepContext, { src, sources, remote }: CopyStepOptions): Promise<void> {
  const chmod = parseChmod(ins.chmod);
  const workdir = state.config.config?.WorkingDir || '/';
  const context = ins.kind === 'copy' && ins.from !== undefined ? await src.fromContext(ins.from, ins) : src.context;
  const fromContext = context === src.context;
  const parents = ins.kind === 'copy' && ins.parents === true;
  const resolve = (destKind: (abs: string) => DestKind | undefined): CopyPlan => resolveSources(context, {
    sources, dest: ins.dest, workdir, excludes: ins.excludes, instruction: ins.kind.toUpperCase(), ...(parents ? { parents: true } : {}), destKind,
  });
  // The key needs no look at the image: the fs key, the instruction, the --chown spec and the sources' content.
  const keyPlan = sources.length > 0 ? resolve(destAsDir(ins, workdir)) : undefined;
  const description = copyCreatedBy(ins);
  const cache = fromContext ? src.statCache : StatCache.memory();
  const known = new Map<string, string>();
  const keyOf = async (): Promise<Digest> => {
    const sum = keyPlan ? (await checksumSources(keyPlan, { cache, known })).digest : 'none';
    return cacheKey([state.fsKey, description, ins.kind === 'copy' ? ins.from ?? '' : '', workdir, ins.chown ?? '', chmod ?? null, ins.excludes, parents, sum, ins.inline, ctx.epoch ?? null, ...(remote?.keyParts() ?? [])]);
  };
  // URLs first, each under its own vertex: an unpinned one is asked for its digest (the key needs it); a pinned one is downloaded only on a miss.
  if (remote) await remote.fetch(ctx.progress, remote.pinned && !ctx.noCache && (await ctx.cache.get(await keyOf())) !== undefined);
  const bytes = keyPlan ? planBytes(keyPlan) : 0;
  // Most content unknown (a first build): write the layer, hashing the files as they are copied, then compute the key.
  const onePass = !remote && fromContext && keyPlan !== undefined && unknownBytes(keyPlan, cache, known) >= ONE_PASS_BYTES;
  let warned = false;
  await layerStep(state, ctx, {
    key: onePass ? keyOf : await keyOf(),
    description, name: stepText(ins), sizeHint: bytes,
    produce: async function* () {
      const fs = await stateFs(ctx.store, state, ctx.indexes).prepare();
      const owner: Owner = ins.chown ? await resolveOwner(ins.chown, fs) : { uid: 0, gid: 0 };
      const now = Math.floor(ctx.now().getTime() / 1000);
      const mtime = ctx.epoch !== undefined ? Math.min(ctx.epoch, now) : now;
      const copy = {
        ...(ins.chown ? { chown: owner } : {}), ...(chmod !== undefined ? { chmod } : {}),
        ...(ctx.epoch !== undefined ? { clampMtime: ctx.epoch } : {}), now: mtime, existingDir: existingDirOf(fs),
      };
      const streams: AsyncIterable<LayerEntry>[] = remote ? remote.entries({ dest: ins.dest, workdir, destKind: destKindOf(fs), copy }) : [];
      if (keyPlan) {
        const plan = resolve(destKindOf(fs));
        for (const w of plan.warnings) ctx.progress.warn(w);
        warned = true;
        const entries = planEntries(plan, { sources, copy, fromOther: !fromContext, tmpRoot: src.tmpRoot, destKind: destKindOf(fs), add: ins.kind === 'add' });
        streams.unshift(onePass ? hashing(entries, keyPlan, cache, known) : entries);
      }
      yield* streams.length === 1 ? streams[0] as AsyncIterable<LayerEntry> : mergeEntries(streams);
      yield* inlineEntries(ins, workdir, owner, chmod, mtime);
    },
  });
  if (!warned && keyPlan) for (const w of keyPlan.warnings) ctx.progress.warn(w);
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
  /** The source arguments the plan was made from (ADD's URLs left out). */
  sources: readonly string[];
  /** ADD: local archives are extracted. */
  add: boolean;
  copy: CopyEntriesOptions;
  /** Sources from another stage or image: their owners are kept (BuildKit copies them as they are). */
  fromOther: boolean;
  tmpRoot: string;
  destKind: (abs: string) => 'dir' | 'file' | undefined;
}

/** The layer entries of a plan: context files owned by root (or --chown), --from files by their owners, ADD archives extracted. */
async function* planEntries(plan: CopyPlan, o: PlanEntriesOptions): AsyncGenerator<LayerEntry> {
  const archives = o.add ? await archiveSources(plan, o.sources) : [];
  const rest: CopyPlan = archives.length === 0 ? plan : { ...plan, entries: plan.entries.filter((e) => !archives.includes(e)) };
  const main = keepOwners(copyEntries(rest, o.copy), rest, o.fromOther && o.copy.chown === undefined);
  if (archives.length === 0) {
    yield* main;
    return;
  }
  yield* mergeEntries([main, ...archives.map((a) => archiveEntries({ abs: a.abs, dest: plan.dest, tmpRoot: o.tmpRoot, destKind: o.destKind, copy: o.copy }))]);
}

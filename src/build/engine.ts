/**
 * `build`: a Dockerfile and a context into an image in the store. The
 * definition comes from the Dockerfile frontend; the stages the target
 * needs run concurrently as their dependencies finish; each layer step goes
 * through the content-addressed cache; the target's state becomes the image.
 */
import { join } from 'node:path';
import { SlipwayError } from '../errors.js';
import { buildDefinition, type BuildDefinition, type Platform, type Stage } from '../dockerfile/index.js';
import { MediaType } from '../oci/media-types.js';
import type { Digest } from '../oci/digest.js';
import { familiarString, parseReference } from '../oci/reference.js';
import type { ImageStore } from '../store/image-store.js';
import type { ImageRecord } from '../store/records.js';
import { findImage, normalizeName } from '../store/resolve.js';
import { BuildCache } from './cache.js';
import type { Progress } from './events.js';
import { fillCreatedTimes } from './history.js';
import type { LayerIndexCache } from './fs-view.js';
import { buildConfigJson } from './image-config.js';
import { runInstruction, type StepContext } from './steps.js';
import type { BuildContext, StatCache } from './context/index.js';
import { copyDriver } from './copy-step.js';
import type { RunDriverOptions } from './run-step.js';
import { StageFilesystems } from './stage-fs.js';
import { childState, ensurePath, imageState, layerDescriptors, scratchState, type StageState } from './state.js';

/** Options of build. */
export interface BuildOptions {
  store: ImageStore;
  dockerfile: { text: string; name: string };
  /** Full references to tag the result with. */
  tags: string[];
  buildArgs: Record<string, string>;
  target?: string;
  noCache?: boolean;
  /** Stage names whose steps skip the cache. */
  noCacheFilter?: string[];
  labels?: Record<string, string>;
  platform?: Platform;
  progress: Progress;
  /** The build context (with its .dockerignore applied). */
  context: BuildContext;
  /** The context's file-hash cache (the caller loads and saves it). */
  statCache: StatCache;
  now?: () => Date;
  /** `--pull`: pull FROM and COPY --from images even when the store has them. */
  pull?: boolean;
  /** `--network` for RUN steps: host (default) or none. */
  network?: 'host' | 'none' | 'default';
  /** `--secret`: secret id → file path. */
  secrets?: ReadonlyMap<string, string>;
  /** Aborted when the build is interrupted: a running RUN is killed and cleaned up. */
  signal?: AbortSignal;
}

/** The final states of stages, by index, as they finish. */
export type StageResults = Map<number, Promise<StageState>>;

/** What a build produced. */
export interface BuildResult {
  id: Digest;
  warnings: string[];
}

/** SOURCE_DATE_EPOCH from the build args, else the environment. */
function sourceDateEpoch(buildArgs: Record<string, string>): number | undefined {
  const v = buildArgs.SOURCE_DATE_EPOCH ?? process.env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new SlipwayError('INVALID_ARGUMENT', `invalid SOURCE_DATE_EPOCH: ${v}`);
  return Number(v);
}

/**
 * The images FROM and COPY --from name, found in the store or pulled
 * (always with `--pull`), each behind an `[internal] load metadata` step.
 */
async function baseImages(store: ImageStore, def: BuildDefinition, options: Pick<BuildOptions, 'pull' | 'platform' | 'progress'>): Promise<Map<string, ImageRecord>> {
  const records = await store.list();
  const out = new Map<string, ImageRecord>();
  for (const i of def.needed) {
    const st = def.stages[i] as Stage;
    const names = st.baseStage === undefined && st.baseName !== 'scratch' ? [st.baseName] : [];
    for (const name of [...names, ...st.imageSources]) {
      if (out.has(name)) continue;
      const found = options.pull ? undefined : findImage(records, name);
      if (found) {
        out.set(name, found.record);
        continue;
      }
      let shown = name;
      try { shown = familiarString(parseReference(name)); } catch { /* keep */ }
      const v = options.progress.start(`[internal] load metadata for ${shown}`);
      try {
        // Loaded only when a pull happens: the registry client (http, tls) costs start-up time.
        const { ensureImage } = await import('../registry/index.js');
        out.set(name, await ensureImage(store, name, { always: true, ...(options.platform ? { platform: options.platform } : {}) }));
        v.done();
      } catch (err) {
        const message = `${def.fileName}:${st.line}: ${shown}: ${(err as Error).message}`;
        v.fail(message);
        throw err instanceof SlipwayError ? new SlipwayError(err.code, message, { cause: err }) : err;
      }
    }
  }
  return out;
}

/** Runs a build and stores the image; returns its ID. */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const { store, progress } = options;
  const now = options.now ?? (() => new Date());
  const epoch = sourceDateEpoch(options.buildArgs);
  const common = { text: options.dockerfile.text, fileName: options.dockerfile.name, buildArgs: options.buildArgs, ...(options.target ? { target: options.target } : {}), ...(options.platform ? { platform: options.platform } : {}) };
  const load = progress.start('[internal] load build definition from Dockerfile');
  load.log(`transferring dockerfile: ${Buffer.byteLength(options.dockerfile.text)}B done`);
  let def = buildDefinition(common);
  const bases = await baseImages(store, def, options);
  const baseConfigs = new Map<string, StageState>();
  // imageState clears OnBuild (a child does not inherit triggers): keep the base's triggers for the frontend.
  const onBuilds = new Map<string, string[]>();
  for (const [name, rec] of bases) {
    baseConfigs.set(name, await imageState(store, rec));
    onBuilds.set(name, ((await store.config(rec)).config?.OnBuild as string[] | null | undefined) ?? []);
  }
  def = buildDefinition({ ...common, baseImage: (ref) => {
    const c = baseConfigs.get(ref)?.config.config;
    return c ? { env: c.Env ?? [], onBuild: onBuilds.get(ref) ?? [] } : undefined;
  } });
  load.done();
  for (const w of def.warnings) progress.warn(w.message);
  const cache = new BuildCache(store.root, store.blobs);
  const results: StageResults = new Map();
  const stageFs = new StageFilesystems(store);
  const copy = copyDriver({
    context: options.context, statCache: options.statCache, tmpRoot: join(store.root, 'tmp'),
    fromContext: (from, ins) => {
      const stage = ins.kind === 'copy' ? ins.fromStage : undefined;
      if (stage !== undefined) return stageFs.context(`stage:${stage}`, () => results.get(stage) as Promise<StageState>);
      const base = baseConfigs.get(from);
      if (!base) throw new SlipwayError('NOT_FOUND', `${from}: image not found in the local store`);
      return stageFs.context(`image:${from}`, async () => base);
    },
  });
  const runOptions: RunDriverOptions = {
    def, context: options.context, statCache: options.statCache, tmpRoot: join(store.root, 'tmp'),
    ...(options.network ? { network: options.network } : {}), ...(options.secrets ? { secrets: options.secrets } : {}), ...(options.signal ? { signal: options.signal } : {}),
    fromDir: async (from) => {
      const idx = def.stages.findIndex((s, i) => s.name === from.toLowerCase() || String(i) === from);
      const state = idx >= 0 ? await (results.get(idx) as Promise<StageState>) : baseConfigs.get(from);
      if (!state) throw new SlipwayError('NOT_FOUND', `${from}: image not found in the local store`);
      const ctx = await stageFs.context(idx >= 0 ? `stage:${idx}` : `image:${from}`, async () => state);
      return { dir: ctx.dir, key: state.fsKey };
    },
  };
  // The RUN executor (and the container runtime) is loaded only when a RUN step runs.
  const run: StepContext['run'] = async (state, ins, ctx) => (await import('./run-step.js')).runDriver(runOptions)(state, ins, ctx);
  const multi = def.stages.length > 1;
  const indexes: LayerIndexCache = new Map();
  const start = (st: Stage): Promise<StageState> => runStage(st, {
    def, results, baseConfigs, cache, store, progress, copy, run, epoch, now, multi, indexes,
    noCache: Boolean(options.noCache) || (st.name !== undefined && (options.noCacheFilter ?? []).includes(st.name)),
  });
  for (const i of def.needed) {
    const st = def.stages[i] as Stage;
    const p = Promise.all(st.dependsOn.map((d) => results.get(d))).then(() => start(st));
    p.catch(() => undefined);
    results.set(i, p);
  }
  try {
    await Promise.all([...results.values()]);
    const final = await (results.get(def.target) as Promise<StageState>);
    const id = await exportImage(store, final, { ...options, epoch, progress });
    return { id, warnings: def.warnings.map((w) => w.message) };
  } finally {
    await cache.settle();
    await stageFs.cleanup();
    await store.close();
  }
}

interface RunContext {
  def: BuildDefinition;
  results: StageResults;
  baseConfigs: Map<string, StageState>;
  cache: BuildCache;
  store: ImageStore;
  progress: Progress;
  copy: StepContext['copy'];
  run: StepContext['run'];
  epoch: number | undefined;
  now: () => Date;
  multi: boolean;
  noCache: boolean;
  indexes: LayerIndexCache;
}

const LAYER_KINDS = new Set(['copy', 'add', 'run', 'workdir']);

async function runStage(st: Stage, rc: RunContext): Promise<StageState> {
  const label = st.name ?? `stage-${st.index}`;
  const fromImage = st.baseStage === undefined && st.baseName !== 'scratch';
  const total = (fromImage ? 1 : 0) + st.instructions.filter((i) => LAYER_KINDS.has(i.kind)).length;
  const width = String(total).length;
  let n = 0;
  const stepName = (text: string) => {
    n++;
    return `[${rc.multi ? `${label} ` : ''}${String(n).padStart(width)}/${total}] ${text}`;
  };
  let state: StageState;
  if (st.baseStage !== undefined) state = childState(await (rc.results.get(st.baseStage) as Promise<StageState>));
  else if (fromImage) {
    const v = rc.progress.start(stepName(`FROM ${normalizeName(parseReference(st.baseName))}`));
    state = childState(rc.baseConfigs.get(st.baseName) as StageState);
    v.done();
  } else state = scratchState(st.platform);
  ensurePath(state);
  const ctx: StepContext = { store: rc.store, cache: rc.cache, progress: rc.progress, epoch: rc.epoch, now: rc.now, noCache: rc.noCache, stepName, copy: rc.copy, run: rc.run, indexes: rc.indexes };
  for (const ins of st.instructions) {
    try {
      await runInstruction(state, ins, ctx);
    } catch (err) {
      if (err instanceof SlipwayError && err.code !== 'DOCKERFILE' && !err.message.startsWith(`${rc.def.fileName}:`)) {
        throw new SlipwayError(err.code, `${rc.def.fileName}:${ins.line}: ${ins.original.split('\n')[0]}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
  return state;
}

async function exportImage(store: ImageStore, state: StageState, o: BuildOptions & { epoch: number | undefined }): Promise<Digest> {
  const v = o.progress.start('exporting to image');
  const history = fillCreatedTimes(state.config.history ?? []);
  const runtime = { ...(state.config.config ?? {}) };
  if (o.labels && Object.keys(o.labels).length > 0) runtime.Labels = { ...(runtime.Labels ?? {}), ...o.labels };
  const created = o.epoch !== undefined ? new Date(o.epoch * 1000).toISOString().replace('.000Z', 'Z') : history[history.length - 1]?.created;
  const config = buildConfigJson({
    architecture: state.config.architecture, os: state.config.os, ...(state.config.variant ? { variant: state.config.variant } : {}),
    ...(state.config.author ? { author: state.config.author } : {}),
    runtime, created, history, diffIds: state.layers.map((l) => l.digest),
  });
  v.log('exporting layers done');
  const res = await store.commitImage({
    manifest: { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: state.fsKey, size: 0 }, layers: layerDescriptors(state) },
    config, names: o.tags,
  });
  v.log(`writing image ${res.id} done`);
  for (const t of o.tags) v.log(`naming to ${t} done`);
  v.done();
  return res.id;
}

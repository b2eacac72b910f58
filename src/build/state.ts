/**
 * The state a stage carries from instruction to instruction: the image
 * config being built, the layers so far, and the cache key of the
 * filesystem they make.
 */
import { chainIds, type Digest } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import type { ImageConfig } from '../oci/types.js';
import type { ImageStore } from '../store/image-store.js';
import { layerDiskSize } from '../store/image-store.js';
import type { ImageRecord } from '../store/records.js';
import { Annotation } from '../store/refs.js';
import type { Platform } from '../dockerfile/index.js';
import { cacheKey } from './cache.js';
import { LayerFs, type LayerIndexCache } from './fs-view.js';
import type { BuiltLayer } from './layer-writer.js';
import { cloneConfig } from './image-config.js';

/** The default PATH BuildKit gives Linux images without one. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A layer of the image being built, with the time its history entry uses. */
export interface StateLayer extends BuiltLayer {
  createdAt?: string;
}

/** A stage's image as it is being built. */
export interface StageState {
  config: ImageConfig;
  layers: StateLayer[];
  /** Cache key of the filesystem (changes only when a layer is added). */
  fsKey: Digest;
  /** Whether CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
}

/** The state of `FROM scratch` for a platform (BuildKit's emptyImage). */
export function scratchState(p: Platform): StageState {
  return {
    config: {
      architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}),
      config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' }, rootfs: { type: 'layers', diff_ids: [] }, history: [],
    },
    layers: [], fsKey: cacheKey(['scratch']), cmdSet: false,
  };
}

/** The state of `FROM image` for an image in the store. */
export async function imageState(store: ImageStore, rec: ImageRecord): Promise<StageState> {
  const [config, manifest] = await Promise.all([store.config(rec), store.manifest(rec)]);
  const cfg = cloneConfig(config);
  delete cfg.created;
  cfg.config = { ...(cfg.config ?? {}), OnBuild: null };
  const layers = manifest.layers.map((l) => ({ digest: l.digest, size: l.size, diskSize: layerDiskSize(l) }));
  const chain = chainIds(layers.map((l) => l.digest));
  const top = chain[chain.length - 1];
  const state: StageState = { config: cfg, layers, fsKey: top ? cacheKey(['layers', top]) : cacheKey(['scratch']), cmdSet: false };
  ensurePath(state);
  return state;
}

/** A copy of another stage's final state to build on (its ONBUILD triggers do not carry over). */
export function childState(base: StageState): StageState {
  const config = cloneConfig(base.config);
  config.config = { ...(config.config ?? {}), OnBuild: null };
  return { config, layers: [...base.layers], fsKey: base.fsKey, cmdSet: false };
}

/** BuildKit makes sure PATH is always set. */
export function ensurePath(state: StageState): void {
  const rc = (state.config.config ??= {});
  const env = rc.Env ?? [];
  if (!env.some((e) => e.startsWith('PATH='))) rc.Env = [...env, `PATH=${DEFAULT_PATH}`];
}

/** A read-only view of the state's filesystem. */
export function stateFs(store: ImageStore, state: StageState, indexes?: LayerIndexCache): LayerFs {
  return new LayerFs(state.layers.map((l) => l.digest), (d) => store.blobs.open(d), indexes);
}

/** The manifest layer descriptors of a state. */
export function layerDescriptors(state: StageState) {
  return state.layers.map((l) => ({
    mediaType: MediaType.ociLayer, digest: l.digest, size: l.size, annotations: { [Annotation.layerSize]: String(l.diskSize) },
  }));
}

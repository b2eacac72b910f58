/**
 * Pulling an image: resolve the reference (tag or digest) to a manifest,
 * choosing the platform's entry from an index; fetch and verify the
 * config; download missing layers concurrently, each verified against its
 * compressed digest and size while it streams, decompressed into the
 * store (its uncompressed digest must be the config's diff ID) and scanned
 * for unsafe entries; then commit the image with its tag and RepoDigest.
 * Layers already in the store are not fetched, and a layer whose download
 * was interrupted resumes from its partial file (layer-download.ts), so a
 * pull run again finishes without fetching again what had arrived.
 * Nothing becomes visible until every byte has been checked.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError } from '../errors.js';
import { digestOf, isDigest, type Digest } from '../oci/digest.js';
import { MediaType, isIndexType, isLayerType, isManifestType } from '../oci/media-types.js';
import { formatPlatform, hostPlatform, matchPlatform, type Platform } from '../oci/platform.js';
import { familiarString, fullName, registryHost, withDefaultTag, type Reference } from '../oci/reference.js';
import type { Descriptor, ImageConfig, ImageIndex, Manifest } from '../oci/types.js';
import { scanTar } from '../layer/index.js';
import type { ImageStore } from '../store/image-store.js';
import { Annotation } from '../store/refs.js';
import { connectRegistry, type ConnectOptions, type RegistryClient } from './client.js';
import { readBody } from './http.js';
import { rememberLayer } from './layer-records.js';
import { downloadLayer, type DownloadContext } from './layer-download.js';
import { mapLimit, shortDigest } from './util.js';

/** Progress of one layer, as Docker words it ('Pulling fs layer', 'Downloading', 'Pull complete' ...). */
export interface LayerEvent {
  id: string;
  status: string;
  current?: number;
  total?: number;
}

/** Options of pullImage. */
export interface PullOptions extends ConnectOptions {
  store: ImageStore;
  /** A normalised reference with a tag or a digest. */
  ref: Reference;
  /** The platform wanted from an index (default: the host's). */
  platform?: Platform;
  /** Layers fetched at once (default 3, as Docker's max-concurrent-downloads). */
  concurrency?: number;
  /** 1 MiB ring slots each concurrent layer download may fill (default 6, at least 4; tests make it small). */
  slotsPerLayer?: number;
  onLayer?: (e: LayerEvent) => void;
  /** Called once the reference has resolved to a manifest, before any layer moves. */
  onResolved?: (digest: Digest) => void;
  /** A connected client to reuse (pull -a). */
  client?: RegistryClient;
}

/** What a pull did. */
export interface PullResult {
  /** The image ID (config digest). */
  id: Digest;
  /** The digest the reference resolved to (an index's digest for a multi-platform image). */
  digest: Digest;
  /** True when the store already had the image under this reference. */
  upToDate: boolean;
}

/** The image manifest chosen for a reference, and the digest the reference resolved to. */
interface Resolved {
  digest: Digest;
  manifest: Manifest;
  /** True when the reference named an index. */
  fromIndex: boolean;
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new SlipwayError('REGISTRY', `${what} is not valid JSON`, { cause: err });
  }
}

function descPlatform(d: Descriptor): Platform | undefined {
  const p = d.platform;
  if (!p) return undefined;
  return { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}), ...(p['os.features'] ? { osFeatures: p['os.features'] } : {}) };
}

/** Picks the entry of an index for `want` (containerd's matcher; the first match wins). */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor {
  const found = index.manifests.find((d) => {
    const p = descPlatform(d);
    return isManifestType(d.mediaType) && p !== undefined && matchPlatform(want, p);
  });
  if (!found) throw new SlipwayError('NOT_FOUND', `no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
  return found;
}

function checkManifest(m: Manifest, what: string): void {
  if (m.schemaVersion !== 2 || !m.config || !isDigest(m.config.digest) || !Array.isArray(m.layers)) {
    throw new SlipwayError('REGISTRY', `${what}: unsupported or malformed manifest (schema 2 Docker and OCI manifests are supported)`);
  }
  for (const l of m.layers) {
    if (!isDigest(l.digest) || typeof l.size !== 'number' || l.size < 0) throw new SlipwayError('REGISTRY', `${what}: malformed layer descriptor`);
    if (!isLayerType(l.mediaType)) throw new SlipwayError('UNSUPPORTED', `${what}: layer ${l.digest} has media type ${l.mediaType}, which is not an image layer`);
    if (l.mediaType === MediaType.dockerForeignLayer) throw new SlipwayError('UNSUPPORTED', `${what}: foreign layers are not supported`);
  }
}

/** Resolves a tag or digest to the image manifest for `platform` (an index is followed once). */
export async function resolveManifest(client: RegistryClient, repo: string, reference: string, platform: Platform | undefined, display?: string): Promise<Resolved> {
  const top = await client.getManifest(repo, reference, display);
  const what = `${client.host}/${repo}@${top.digest}`;
  if (isIndexType(top.mediaType)) {
    const index = parseJson<ImageIndex>(top.bytes, what);
    if (!Array.isArray(index.manifests)) throw new SlipwayError('REGISTRY', `${what}: malformed index`);
    const entry = selectManifest(index, platform ?? hostPlatform());
    const inner = await client.getManifest(repo, entry.digest);
    const manifest = parseJson<Manifest>(inner.bytes, `${client.host}/${repo}@${inner.digest}`);
    checkManifest(manifest, `${client.host}/${repo}@${inner.digest}`);
    return { digest: top.digest, manifest, fromIndex: true };
  }
  if (!isManifestType(top.mediaType)) throw new SlipwayError('UNSUPPORTED', `${what}: unsupported manifest media type ${top.mediaType}`);
  const manifest = parseJson<Manifest>(top.bytes, what);
  checkManifest(manifest, what);
  return { digest: top.digest, manifest, fromIndex: false };
}

async function fetchConfig(client: RegistryClient, repo: string, desc: Descriptor): Promise<Buffer> {
  const what = `image config ${desc.digest}`;
  if (desc.size > 16 << 20) throw new SlipwayError('REGISTRY', `${what} is ${desc.size} bytes, over the 16 MiB limit`);
  const res = await client.getBlob(repo, desc.digest);
  const bytes = await readBody(res, desc.size, what).catch((err: unknown) => {
    throw err instanceof SlipwayError && /limit/.test(err.message) ? new SlipwayError('DIGEST_MISMATCH', `${what}: more than the expected ${desc.size} bytes arrived`) : err;
  });
  if (bytes.length !== desc.size) throw new SlipwayError('DIGEST_MISMATCH', `${what}: truncated: ${bytes.length} of ${desc.size} bytes arrived`);
  const got = digestOf(bytes);
  if (got !== desc.digest) throw new SlipwayError('DIGEST_MISMATCH', `${what}: the registry sent content with digest ${got}`);
  return bytes;
}

/** Docker's size of a layer already in the store: from a manifest that lists it, else by scanning it. */
async function knownDiskSize(store: ImageStore, diffId: Digest, cache: Map<Digest, number>): Promise<number> {
  if (cache.size === 0) {
    for (const rec of await store.list()) {
      const m = await store.manifest(rec).catch(() => undefined);
      for (const l of m?.layers ?? []) {
        const v = l.annotations?.[Annotation.layerSize];
        if (v !== undefined) cache.set(l.digest, Number(v));
      }
    }
  }
  const hit = cache.get(diffId);
  if (hit !== undefined) return hit;
  return (await scanTar(store.blobs.open(diffId), { label: `layer ${diffId}` })).contentBytes;
}

interface LayerJob {
  desc: Descriptor;
  diffId: Digest;
}

/**
 * Pulls `opts.ref` into the store. Throws (with nothing new visible: no
 * tag, no image) on any registry error, digest mismatch, truncated or
 * unsafe content.
 */
export async function pullImage(opts: PullOptions): Promise<PullResult> {
  const { store, ref } = opts;
  const host = registryHost(ref);
  const client = opts.client ?? await connectRegistry(host, opts);
  const repo = ref.path;
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const resolved = await resolveManifest(client, repo, reference, opts.platform, familiarString(withDefaultTag(ref)));
  const { manifest } = resolved;
  opts.onResolved?.(resolved.digest);
  const configDesc = manifest.config;
  const records = await store.list();
  const name = `${fullName(ref)}:${ref.tag ?? 'latest'}`;
  const existing = records.find((r) => r.id === configDesc.digest);
  const configBytes = existing ? await store.blobs.read(configDesc.digest, 16 << 20) : await fetchConfig(client, repo, configDesc);
  const config = parseJson<ImageConfig>(configBytes, `image config ${configDesc.digest}`);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length || !diffIds.every(isDigest)) {
    throw new SlipwayError('REGISTRY', `image config ${configDesc.digest} lists ${diffIds.length} layers, the manifest ${manifest.layers.length}`);
  }
  const actual: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  if (opts.platform && !resolved.fromIndex && !matchPlatform(opts.platform, actual)) {
    throw new SlipwayError('NOT_FOUND', `image with reference ${fullName(ref)}${ref.digest ? '@' : ':'}${reference} was found but does not match the specified platform: wanted ${formatPlatform(opts.platform)}, actual: ${formatPlatform(actual)}`);
  }
  const jobs: LayerJob[] = manifest.layers.map((desc, i) => ({ desc, diffId: diffIds[i] as Digest }));
  const sizes = await transferLayers(opts, client, repo, jobs);
  for (const job of jobs) await rememberLayer(store.root, job.diffId, { digest: job.desc.digest, size: job.desc.size, mediaType: job.desc.mediaType }, `${host}/${repo}`).catch(() => undefined);
  const local: Manifest = {
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configDesc.digest, size: configBytes.length },
    layers: jobs.map((j, i) => ({ mediaType: MediaType.ociLayer, digest: j.diffId, size: 0, annotations: { [Annotation.layerSize]: String(sizes[i]) } })),
  };
  for (const l of local.layers) l.size = (await store.blobs.size(l.digest)) ?? 0;
  const repoDigest = `${fullName(ref)}@${resolved.digest}`;
  const upToDate = existing !== undefined && (ref.digest !== undefined ? true : existing.names.includes(name));
  await store.commitImage({ manifest: local, config: configBytes, names: ref.digest !== undefined ? [] : [name], repoDigests: [repoDigest] });
  return { id: configDesc.digest, digest: resolved.digest, upToDate };
}

/**
 * Ring slots (1 MiB each) per concurrent download for the blob's bytes:
 * the one being filled, zlib's input, the file writes, the hashing queue,
 * the tar scan's queue (an uncompressed layer). At least 4: a tar scan
 * keeps its last 3 chunks while it waits for the next. Few is fast: the
 * slots a hashing thread walks through then fit the CPU's TLB and caches
 * (1 GiB, same round, 6 runs: 6 + 4 slots 1152 / 2348 ms uncompressed /
 * gzip and 87 / 148 MB peak RSS; 12 + 8 slots 1170 / 2470 ms, 105 / 175 MB).
 */
const RING_SLOTS_PER_LAYER = 6;
/** Slots per concurrent download for a compressed layer's inflated bytes (at least 4, as above). */
const INFLATED_SLOTS_PER_LAYER = 4;

/** The shared state of a pull's layer downloads: the ring, one slot pool per concurrent download, the hashing threads. */
async function downloadContext(opts: PullOptions, client: RegistryClient, repo: string, downloads: number): Promise<DownloadContext> {
  const { HashWorkerPool } = await import('../archive/hash-worker.js');
  const { SlotRing } = await import('../archive/slot-ring.js');
  const { DIRECT_IO_BLOCK, probeDirectIo } = await import('../store/direct-io.js');
  const perLayer = Math.max(4, opts.slotsPerLayer ?? RING_SLOTS_PER_LAYER);
  // Slots aligned for direct I/O when the store's filesystem takes it (the probe writes a scratch file in ingest/).
  const ingest = join(opts.store.blobs.root, 'ingest');
  await mkdir(ingest, { recursive: true });
  let direct = false;
  const place = (mem: Buffer): number => {
    const at = probeDirectIo(ingest, mem);
    direct = at !== undefined;
    return at ?? 0;
  };
  const ring = new SlotRing(1 << 20, (perLayer + INFLATED_SLOTS_PER_LAYER) * downloads, { headroom: DIRECT_IO_BLOCK, place });
  const aligned = (chunk: Buffer): boolean => ring.slotOf(chunk) >= 0 && (chunk.byteOffset - ring.base) % DIRECT_IO_BLOCK === 0;
  const slotPools = Array.from({ length: downloads }, () => ({ network: ring.pool(perLayer), inflated: ring.pool(INFLATED_SLOTS_PER_LAYER) }));
  return {
    blobs: opts.store.blobs, client, repo, ring, slotPools, live: new Set(), pool: new HashWorkerPool(ring), diffPool: new HashWorkerPool(ring),
    ...(direct ? { directAligned: aligned } : {}),
  };
}

async function transferLayers(opts: PullOptions, client: RegistryClient, repo: string, jobs: LayerJob[]): Promise<number[]> {
  const { store } = opts;
  const concurrency = Math.max(1, opts.concurrency ?? 3);
  const present = await Promise.all(jobs.map(async (j) => (await store.blobs.size(j.diffId)) !== undefined));
  jobs.forEach((j, i) => opts.onLayer?.({ id: shortDigest(j.desc.digest), status: present[i] ? 'Already exists' : 'Pulling fs layer' }));
  const missing = jobs.map((_, i) => i).filter((i) => !present[i]);
  // Docker's "Waiting": layers queued behind the concurrency limit.
  for (const i of missing.slice(concurrency)) opts.onLayer?.({ id: shortDigest((jobs[i] as LayerJob).desc.digest), status: 'Waiting' });
  const sizes: number[] = new Array<number>(jobs.length).fill(0);
  const sizeCache = new Map<Digest, number>();
  for (let i = 0; i < jobs.length; i++) {
    if (!present[i]) continue;
    const job = jobs[i] as LayerJob;
    await store.blobs.protect(job.diffId);
    sizes[i] = await knownDiskSize(store, job.diffId, sizeCache);
  }
  if (missing.length === 0) return sizes;
  const done: boolean[] = jobs.map((_, i) => Boolean(present[i]));
  let announced = 0;
  const announce = (): void => {
    while (announced < jobs.length && done[announced]) {
      if (!present[announced]) opts.onLayer?.({ id: shortDigest((jobs[announced] as LayerJob).desc.digest), status: 'Pull complete' });
      announced++;
    }
  };
  const t = await downloadContext(opts, client, repo, Math.min(concurrency, missing.length));
  try {
    await mapLimit(missing, concurrency, async (i) => {
      sizes[i] = await withRetries(() => fetchLayer(t, opts, jobs[i] as LayerJob));
      done[i] = true;
      announce();
    }, () => {
      for (const s of t.live) s.destroy(new SlipwayError('REGISTRY', 'pull cancelled after another layer failed'));
    });
  } finally {
    await Promise.all([t.pool.close(), t.diffPool.close()]);
  }
  return sizes;
}

/** One layer, with Docker's progress events; returns Docker's size of it. */
async function fetchLayer(t: DownloadContext, opts: PullOptions, job: LayerJob): Promise<number> {
  const { desc } = job;
  const id = shortDigest(desc.digest);
  const result = await downloadLayer(t, {
    desc, diffId: job.diffId,
    onBytes: (n) => opts.onLayer?.({ id, status: 'Downloading', current: n, total: desc.size }),
    onComplete: () => {
      opts.onLayer?.({ id, status: 'Verifying Checksum' });
      opts.onLayer?.({ id, status: 'Download complete' });
    },
  });
  return result.diskSize;
}

/** Retries a layer download after a network failure (not after a verification failure). */
async function withRetries<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const retryable = err instanceof SlipwayError && err.code === 'REGISTRY' && /download failed|aborted|ECONNRESET|socket hang up/.test(err.message);
      if (!retryable || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 200 * i));
    }
  }
}

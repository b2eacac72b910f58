/**
 * Pushing an image: each (uncompressed, local) layer leaves compressed —
 * gzip by default (zlib, fixed level, no name or time in the header, so
 * the same image pushed twice gives the same digests), zstd through
 * Debian's `zstd`, or as it is. A layer whose compressed form is known
 * (pushed or pulled before) is checked with HEAD and skipped when present,
 * or mounted from another repository of the same registry; otherwise it
 * is compressed on the fly and streamed in one PATCH (or in chunks of
 * `chunkSize`), then closed with its digest. Then the config (monolithic
 * upload) and the manifest (Docker schema 2 or OCI) under the tag.
 */
import { spawn } from 'node:child_process';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { SlipwayError, isErrno } from '../errors.js';
import { digestOf, newHasher, type Digest } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import { fullName, registryHost, type Reference } from '../oci/reference.js';
import type { Manifest } from '../oci/types.js';
import type { ImageStore } from '../store/image-store.js';
import type { ImageRecord } from '../store/records.js';
import { connectRegistry, oneShot, type ConnectOptions, type RegistryClient } from './client.js';
import { gzipBlocks } from './gzip-blocks.js';
import { readLayerRecord, rememberLayer, type CompressedForm } from './layer-records.js';
import type { LayerEvent } from './pull.js';
import { mapLimit, shortDigest } from './util.js';

/** How layers leave the machine. */
export type PushCompression = 'gzip' | 'zstd' | 'none';

/** Options of pushImage. */
export interface PushOptions extends ConnectOptions {
  store: ImageStore;
  /** The local image to push. */
  image: ImageRecord;
  /** Where to push it: a normalised reference with a tag. */
  ref: Reference;
  compression?: PushCompression;
  /** gzip level 1-9 (default 6) or zstd level 1-19 (default 3). */
  level?: number;
  /** Manifest format: Docker schema 2 (default; not with zstd) or OCI. */
  format?: 'docker' | 'oci';
  /** Layers sent at once (default 5, as Docker's max-concurrent-uploads). */
  concurrency?: number;
  /** Send layers in PATCH chunks of this many bytes (default: one streamed PATCH). */
  chunkSize?: number;
  onLayer?: (e: LayerEvent) => void;
  client?: RegistryClient;
}

/** What a push did. */
export interface PushResult {
  digest: Digest;
  /** Size of the manifest in bytes. */
  size: number;
}

function layerMediaType(c: PushCompression, format: 'docker' | 'oci'): string {
  if (format === 'docker') return c === 'none' ? MediaType.dockerLayer : MediaType.dockerLayerGzip;
  return c === 'gzip' ? MediaType.ociLayerGzip : c === 'zstd' ? MediaType.ociLayerZstd : MediaType.ociLayer;
}

/** Compresses with Debian's zstd program (multi-threaded; the output does not depend on the thread count). */
function compressZstd(input: Readable, level: number): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const child = spawn('zstd', ['-q', '-c', `-${level}`, '-T0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s.slice(0, 2048); });
  child.on('error', (err) => out.destroy(isErrno(err, 'ENOENT')
    ? new SlipwayError('UNSUPPORTED', 'zstd is not installed (needed to push zstd-compressed layers)', { cause: err })
    : new SlipwayError('IO', `zstd: ${err.message}`, { cause: err })));
  child.stdin.on('error', () => undefined);
  input.on('error', (err) => { child.kill(); out.destroy(err); });
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('close', (code) => {
    if (code === 0) out.end();
    else if (!out.destroyed) out.destroy(new SlipwayError('IO', `zstd failed (exit status ${code}): ${stderr.trim()}`));
  });
  out.on('close', () => { if (child.exitCode === null) child.kill(); });
  return out;
}

/** Counts and hashes what flows through (the compressed digest, known at the end). */
class HashCounter extends Transform {
  readonly hash = newHasher();
  size = 0;
  digest: Digest | undefined;

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.digest = `sha256:${this.hash.digest('hex')}`;
    cb();
  }
}

interface LayerContext {
  opts: PushOptions;
  client: RegistryClient;
  repo: string;
  compression: PushCompression;
  mediaType: string;
}

/** The compressed stream of a local layer, with progress. */
function compressedStream(ctx: LayerContext, diffId: Digest, id: string, total: number): Readable {
  let n = 0;
  const src = ctx.opts.store.blobs.open(diffId);
  src.on('data', (c: Buffer) => {
    n += c.length;
    ctx.opts.onLayer?.({ id, status: 'Pushing', current: n, total });
  });
  if (ctx.compression === 'gzip') return gzipBlocks(src, { level: ctx.opts.level ?? 6 });
  if (ctx.compression === 'zstd') return compressZstd(src, ctx.opts.level ?? 3);
  return src;
}

/** Tries the known compressed forms: HEAD in the target repository, then a mount from another one. */
async function reuseKnown(ctx: LayerContext, forms: CompressedForm[], id: string): Promise<{ form?: CompressedForm; location?: URL }> {
  const host = ctx.client.host;
  for (const f of forms) {
    if ((await ctx.client.blobSize(ctx.repo, f.digest)) !== undefined) {
      ctx.opts.onLayer?.({ id, status: 'Layer already exists' });
      return { form: f };
    }
  }
  let location: URL | undefined;
  for (const f of forms) {
    const from = f.repos.find((r) => r.startsWith(`${host}/`) && r !== `${host}/${ctx.repo}`);
    if (from === undefined) continue;
    const source = from.slice(host.length + 1);
    const r = await ctx.client.mountBlob(ctx.repo, f.digest, source).catch(() => undefined);
    if (r?.mounted) {
      ctx.opts.onLayer?.({ id, status: `Mounted from ${source}` });
      return { form: f };
    }
    if (r && !r.mounted) location = r.location;
    break;
  }
  return location ? { location } : {};
}

async function sendChunks(ctx: LayerContext, location: URL, body: Readable, chunkSize: number): Promise<URL> {
  let loc = location;
  let start = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    const chunk = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    loc = await ctx.client.patchUpload(ctx.repo, loc, chunk, { start, length: chunk.length });
    start += chunk.length;
  };
  for await (const c of body as AsyncIterable<Buffer>) {
    pending.push(c);
    pendingBytes += c.length;
    if (pendingBytes >= chunkSize) await flush();
  }
  if (pendingBytes > 0) await flush();
  return loc;
}

/** Compresses and uploads one layer; returns its compressed form. */
async function uploadLayer(ctx: LayerContext, diffId: Digest, id: string, location: URL | undefined): Promise<CompressedForm> {
  const total = (await ctx.opts.store.blobs.size(diffId)) ?? 0;
  let loc = location ?? await ctx.client.startUpload(ctx.repo);
  const counter = new HashCounter();
  const src = compressedStream(ctx, diffId, id, total);
  src.on('error', (err) => counter.destroy(err));
  src.pipe(counter);
  if (ctx.opts.chunkSize !== undefined && ctx.opts.chunkSize > 0) loc = await sendChunks(ctx, loc, counter, ctx.opts.chunkSize);
  else loc = await ctx.client.patchUpload(ctx.repo, loc, oneShot(counter));
  if (counter.digest === undefined) throw new SlipwayError('REGISTRY', `uploading layer ${diffId}: the stream ended early`);
  await ctx.client.finishUpload(ctx.repo, loc, counter.digest);
  ctx.opts.onLayer?.({ id, status: 'Pushed' });
  return { digest: counter.digest, size: counter.size, mediaType: ctx.mediaType, repos: [] };
}

async function pushLayer(ctx: LayerContext, diffId: Digest): Promise<CompressedForm> {
  const id = shortDigest(diffId);
  const family = (m: string): string => (m.endsWith('gzip') ? 'gzip' : m.endsWith('zstd') ? 'zstd' : 'none');
  const forms = (await readLayerRecord(ctx.opts.store.root, diffId)).filter((f) => family(f.mediaType) === ctx.compression);
  if (ctx.compression === 'none' && !forms.some((f) => f.digest === diffId)) {
    forms.push({ digest: diffId, size: (await ctx.opts.store.blobs.size(diffId)) ?? 0, mediaType: ctx.mediaType, repos: [] });
  }
  const reused = await reuseKnown(ctx, forms, id);
  const form = reused.form ?? await uploadLayer(ctx, diffId, id, reused.location);
  await rememberLayer(ctx.opts.store.root, diffId, form, `${ctx.client.host}/${ctx.repo}`).catch(() => undefined);
  return { ...form, mediaType: ctx.mediaType };
}

async function pushConfig(client: RegistryClient, repo: string, bytes: Buffer): Promise<Digest> {
  const digest = digestOf(bytes);
  if ((await client.blobSize(repo, digest)) !== undefined) return digest;
  const loc = await client.startUpload(repo);
  await client.finishUpload(repo, loc, digest, bytes);
  return digest;
}

/** Pushes `opts.image` as `opts.ref`; records the RepoDigest locally. */
export async function pushImage(opts: PushOptions): Promise<PushResult> {
  const { store, image, ref } = opts;
  const compression = opts.compression ?? 'gzip';
  const format = opts.format ?? (compression === 'zstd' ? 'oci' : 'docker');
  if (format === 'docker' && compression === 'zstd') throw new SlipwayError('INVALID_ARGUMENT', 'zstd-compressed layers need an OCI manifest (Docker schema 2 has no zstd media type)');
  const host = registryHost(ref);
  const client = opts.client ?? await connectRegistry(host, opts);
  const repo = ref.path;
  const local = await store.manifest(image);
  const ctx: LayerContext = { opts, client, repo, compression, mediaType: layerMediaType(compression, format) };
  const concurrency = Math.max(1, opts.concurrency ?? 5);
  for (const l of local.layers) opts.onLayer?.({ id: shortDigest(l.digest), status: 'Preparing' });
  // Docker's "Waiting": layers queued behind the concurrency limit.
  for (const l of local.layers.slice(concurrency)) opts.onLayer?.({ id: shortDigest(l.digest), status: 'Waiting' });
  const forms = await mapLimit(local.layers, concurrency, (l) => pushLayer(ctx, l.digest));
  const configBytes = await store.blobs.read(image.id, 16 << 20);
  await pushConfig(client, repo, configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: format === 'docker' ? MediaType.dockerManifest : MediaType.ociManifest,
    config: { mediaType: format === 'docker' ? MediaType.dockerConfig : MediaType.ociConfig, size: configBytes.length, digest: image.id },
    layers: forms.map((f) => ({ mediaType: f.mediaType, size: f.size, digest: f.digest })),
  };
  // Docker writes manifests indented by three spaces (Go's MarshalIndent); so do we.
  const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
  const digest = await client.putManifest(repo, ref.tag ?? 'latest', bytes, manifest.mediaType as string);
  await store.addRepoDigests(image.id, [`${fullName(ref)}@${digest}`]);
  return { digest, size: bytes.length };
}

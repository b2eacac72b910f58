/**
 * A fake registry (node:http) serving one image whose answers a test can
 * break: wrong digests, truncated or stalled blobs, 429/500 before
 * success, hanging requests, redirects to a second "blob store" host,
 * oversized manifests, Basic auth. It counts what it served.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { freePort, onCleanup } from './servers.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The served image. */
export interface FakeImage {
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
  /** Compressed layer blobs in order. */
  layers: { digest: string; bytes: Buffer }[];
  blobs: Map<string, Buffer>;
}

/** Variations of makeImage's image. */
export interface MakeImageOptions {
  /** Indexes of layers served uncompressed (their digest is their diff ID). */
  plain?: number[];
  /** Index of a layer whose diff ID the config gets wrong. */
  wrongDiffId?: number;
}

/** Builds a gzip image (two layers by default) from tars of random files. */
export function makeImage(dir: string, sizes: number[] = [100_000, 2_000_000], options: MakeImageOptions = {}): FakeImage {
  const blobs = new Map<string, Buffer>();
  const layers: { digest: string; bytes: Buffer }[] = [];
  const diffIds: string[] = [];
  sizes.forEach((size, i) => {
    const src = join(dir, `layer${i}`);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, `file${i}`), randomBytes(size));
    const tar = execFileSync('tar', ['-C', src, '--owner=0', '--group=0', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
    diffIds.push(i === options.wrongDiffId ? sha(Buffer.from('not this layer')) : sha(tar));
    const blob = options.plain?.includes(i) ? tar : gzipSync(tar);
    layers.push({ digest: sha(blob), bytes: blob });
    blobs.set(sha(blob), blob);
  });
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: diffIds }, history: sizes.map(() => ({ created_by: 'test' })) }));
  blobs.set(sha(config), config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(config), size: config.length },
    layers: layers.map((l, i) => ({ mediaType: `application/vnd.docker.image.rootfs.diff.tar${options.plain?.includes(i) ? '' : '.gzip'}`, digest: l.digest, size: l.bytes.length })),
  }));
  return { configDigest: sha(config), manifest, manifestDigest: sha(manifest), layers, blobs };
}

/** How the fake registry misbehaves; tests change it between runs. */
export interface Faults {
  /** Answer /v2/ with a Basic challenge and require this user:password. */
  basicAuth?: string;
  /** Status codes to answer the next requests for a path matching `match` with, before serving it. */
  failFirst?: { match: RegExp; statuses: number[]; retryAfter?: string };
  /** Serve these bytes instead of the blob (same length or not). */
  replaceBlob?: { digest: string; bytes: Buffer };
  /** Send only this many bytes of the blob, then cut the connection. */
  truncateBlob?: { digest: string; bytes: number };
  /** Send this many bytes of the blob, then stall (never finish). */
  stallBlob?: { digest: string; bytes: number };
  /** Never answer requests matching this. */
  hang?: RegExp;
  /** Redirect blob GETs to the blob store. */
  redirectBlobs?: boolean;
  /** Send blobs with Transfer-Encoding: chunked (no Content-Length). */
  chunkedBlobs?: boolean;
  /** Serve a manifest this many bytes long instead. */
  hugeManifest?: number;
}

/** A running fake registry. */
export interface FakeRegistry {
  host: string;
  faults: Faults;
  /** Completed blob GETs by digest (full bodies sent). */
  served: Map<string, number>;
  /** Blob GETs started by digest. */
  started: Map<string, number>;
  /** Authorization headers the blob store received (should stay empty). */
  blobStoreAuth: string[];
  blobStoreHits: number;
}

function listen(server: http.Server): Promise<number> {
  return freePort().then((port) => new Promise((r) => server.listen(port, '127.0.0.1', () => r(port))));
}

function sendBlob(res: http.ServerResponse, bytes: Buffer, state: FakeRegistry, digest: string, faults: Faults): void {
  state.started.set(digest, (state.started.get(digest) ?? 0) + 1);
  res.writeHead(200, { 'content-type': 'application/octet-stream', ...(faults.chunkedBlobs ? {} : { 'content-length': String(bytes.length) }), 'docker-content-digest': digest });
  if (faults.truncateBlob?.digest === digest) {
    res.write(bytes.subarray(0, faults.truncateBlob.bytes), () => res.socket?.destroy());
    return;
  }
  if (faults.stallBlob?.digest === digest) {
    res.write(bytes.subarray(0, faults.stallBlob.bytes));
    return;
  }
  res.end(bytes, () => state.served.set(digest, (state.served.get(digest) ?? 0) + 1));
}

/** Starts the fake registry and its blob store on two ports. */
export async function startFakeRegistry(image: FakeImage): Promise<FakeRegistry> {
  const state: FakeRegistry = { host: '', faults: {}, served: new Map(), started: new Map(), blobStoreAuth: [], blobStoreHits: 0 };
  const blobStore = http.createServer((req, res) => {
    state.blobStoreHits++;
    if (req.headers.authorization) state.blobStoreAuth.push(req.headers.authorization);
    const digest = new URL(req.url ?? '/', 'http://x').searchParams.get('d') ?? '';
    const bytes = image.blobs.get(digest);
    if (!bytes) return void res.writeHead(404).end();
    sendBlob(res, bytes, state, digest, state.faults);
  });
  const blobPort = await listen(blobStore);
  const counters = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const f = state.faults;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (f.hang?.test(path)) return;
    if (f.basicAuth && req.headers.authorization !== `Basic ${Buffer.from(f.basicAuth).toString('base64')}`) {
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"', 'content-type': 'application/json' })
        .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    }
    if (f.failFirst?.match.test(path)) {
      const n = counters.get(path) ?? 0;
      const status = f.failFirst.statuses[n];
      if (status !== undefined) {
        counters.set(path, n + 1);
        const headers: Record<string, string> = status === 429 && f.failFirst.retryAfter ? { 'retry-after': f.failFirst.retryAfter } : {};
        return void res.writeHead(status, headers).end();
      }
    }
    if (path === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
    if (!m) return void res.writeHead(404).end();
    if (m[2] === 'manifests') {
      if (m[3] !== 'latest' && m[3] !== image.manifestDigest) {
        return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
      }
      const body = f.hugeManifest ? Buffer.alloc(f.hugeManifest, 0x20) : image.manifest;
      return void res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json', 'content-length': String(body.length) }).end(body);
    }
    const digest = m[3] ?? '';
    const bytes = f.replaceBlob?.digest === digest ? f.replaceBlob.bytes : image.blobs.get(digest);
    if (!bytes) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
    if (f.redirectBlobs) return void res.writeHead(307, { location: `http://localhost:${blobPort}/store?d=${digest}` }).end();
    sendBlob(res, bytes, state, digest, f);
  });
  const port = await listen(server);
  state.host = `127.0.0.1:${port}`;
  onCleanup(() => new Promise<void>((r) => { blobStore.closeAllConnections(); blobStore.close(() => r()); }));
  onCleanup(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return state;
}

/** Digests of every file in a store's blobs/sha256 that do not match their names (should be none). */
export function corruptBlobs(root: string, names: string[]): string[] {
  return names.filter((n) => createHash('sha256').update(readFileSync(join(root, 'blobs', 'sha256', n))).digest('hex') !== n);
}

/**
 * ADD of an http(s) URL, as BuildKit's HTTP source and its Dockerfile
 * frontend behave:
 *
 * - the file is downloaded, never extracted (even a tar), under the last
 *   component of the URL's path (`__unnamed__` when there is none; the
 *   frontend names it, so Content-Disposition is not used), mode 0600
 *   unless --chmod, owned by root unless --chown, its mtime the response's
 *   Last-Modified (else the Unix epoch); the destination follows COPY's
 *   rules (a dest ending in / or an existing directory gets dest/name);
 * - `--checksum=sha256:<hex>`: the bytes must have that digest, else the
 *   step fails with `digest mismatch for URL: <actual> (expected: <want>)`;
 *   the step's cache key is made from the checksum, so a rebuild with no
 *   change makes no request at all;
 * - without it, the URL is asked again on every build: when an earlier
 *   download recorded an ETag (`<root>/buildcache/http/`), the request
 *   carries If-None-Match and a 304 reuses the recorded digest (no body);
 *   otherwise the body is downloaded and its digest goes into the key, so a
 *   changed file rebuilds and an unchanged one is CACHED;
 * - transport: the registry client (redirects up to 10, timeouts, retries
 *   of transient failures), TLS always verified against the system store
 *   plus the CA certificates of `$SLIPWAY_CERTS_D` (else
 *   /etc/docker/certs.d) `/<host:port>/*.crt`. Bodies stream to a private
 *   temporary file while being hashed; nothing is held in memory.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SlipwayError } from '../errors.js';
import type { HttpClient } from '../registry/http.js';
import { urlClient } from '../registry/url-get.js';
import { copyEntries, openContext, resolveSources, type CopyEntriesOptions, type DestKind } from './context/index.js';
import type { Progress } from './events.js';
import type { LayerEntry } from './layer-writer.js';

/** Whether an ADD source is a URL (BuildKit: it starts with http:// or https://). */
export function isUrlSource(source: string): boolean {
  return source.startsWith('http://') || source.startsWith('https://');
}

/** The file name BuildKit's frontend gives a URL source: the last component of its path, else `__unnamed__`. */
export function urlFileName(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return '__unnamed__';
  }
  try {
    path = decodeURIComponent(path);
  } catch {
    // keep it encoded, as written
  }
  const base = posix.basename(path);
  return base === '' || base === '.' || base === '..' || base.includes('\0') ? '__unnamed__' : base;
}

/** The URL without user:password (for messages). */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** One URL source of an ADD, downloaded (or not yet) into its own directory. */
export interface UrlSource {
  url: string;
  /** The file name in the image (before the destination rules). */
  name: string;
  /** A private directory holding `name` once downloaded. */
  dir: string;
  /** The content digest the key uses: --checksum, a recorded digest (304) or the download's. */
  digest?: string;
  /** --checksum: the bytes must match it. */
  pinned?: string;
  /** The Last-Modified header of the answer the digest came from. */
  lastModified?: string;
  /** Whether `dir/name` holds the bytes. */
  downloaded: boolean;
}

/** Downloads for one ADD step: a client, the recorded ETags, the temporary directories. */
export class UrlFetcher {
  private client: HttpClient | undefined;
  private readonly dirs: string[] = [];

  /** `root` is the store root; `tmpRoot` where private directories are made. */
  constructor(private readonly root: string, private readonly tmpRoot: string) {}

  private http(): HttpClient {
    this.client ??= urlClient();
    return this.client;
  }

  /** A source for `url` (nothing is fetched yet). */
  async source(url: string, pinned: string | undefined): Promise<UrlSource> {
    await mkdir(this.tmpRoot, { recursive: true });
    const dir = await mkdtemp(join(this.tmpRoot, 'add-url-'));
    this.dirs.push(dir);
    return { url, name: urlFileName(url), dir, downloaded: false, ...(pinned !== undefined ? { pinned, digest: pinned } : {}) };
  }

  /**
   * Learns the digest of an unpinned source: a conditional request when an
   * ETag was recorded (a 304 reuses the recorded digest), else a download.
   */
  async resolve(s: UrlSource): Promise<void> {
    if (s.digest !== undefined) return;
    const rec = await this.record(s);
    const got = await this.fetch(s, rec ? { 'if-none-match': rec.etag } : {});
    if (got === 'not-modified') {
      if (!rec) throw new SlipwayError('BUILD', `${shownUrl(s.url)}: invalid not-modified answer (no ETag was sent)`);
      s.digest = rec.digest;
      if (rec.lastModified !== undefined) s.lastModified = rec.lastModified;
      return;
    }
    s.digest = got.digest;
    if (got.lastModified !== undefined) s.lastModified = got.lastModified;
    if (got.etag !== undefined) await this.saveRecord(s, { etag: got.etag, digest: got.digest, ...(got.lastModified !== undefined ? { lastModified: got.lastModified } : {}) });
  }

  /** The part of a cache key a source contributes (call after resolve, or with --checksum). */
  static keyPart(s: UrlSource): unknown[] {
    return [s.url, s.name, s.digest ?? null, s.pinned === undefined ? s.lastModified ?? null : null];
  }

  /** Downloads a source into its directory (checked against its pinned or known digest). */
  async download(s: UrlSource): Promise<void> {
    const got = await this.fetch(s, {});
    if (got === 'not-modified') throw new SlipwayError('BUILD', `${shownUrl(s.url)}: unexpected 304 Not Modified`);
    if (got.lastModified !== undefined) s.lastModified = got.lastModified;
    else delete s.lastModified;
  }

  /** The layer entries of a source at `dest` (downloaded now when it is not yet). */
  async *entries(s: UrlSource, o: UrlEntriesOptions): AsyncGenerator<LayerEntry> {
    if (!s.downloaded) await this.download(s);
    const file = join(s.dir, s.name);
    const parsed = s.lastModified !== undefined ? Date.parse(s.lastModified) : NaN;
    const mtime = Number.isFinite(parsed) ? Math.floor(parsed / 1000) : 0;
    await utimes(file, mtime, mtime);
    const plan = resolveSources(openContext({ dir: s.dir }), { sources: [s.name], dest: o.dest, workdir: o.workdir, instruction: 'ADD', destKind: o.destKind, literal: true });
    yield* copyEntries(plan, o.copy);
  }

  /** Removes the downloads and closes connections. */
  async close(): Promise<void> {
    this.client?.close();
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })));
  }

  /** GETs the URL into `dir/name`, hashing as it writes; checks a pinned or known digest. */
  private async fetch(s: UrlSource, headers: Record<string, string>): Promise<Fetched | 'not-modified'> {
    const url = parseUrl(s.url);
    const res = await this.http().request({ method: 'GET', url, headers });
    if (res.status === 304 && headers['if-none-match'] !== undefined) {
      res.body.resume();
      return 'not-modified';
    }
    if (res.status < 200 || res.status >= 300) {
      res.body.resume();
      throw new SlipwayError('BUILD', `failed to download ${shownUrl(s.url)}: invalid response status ${res.status}`);
    }
    const got = await this.save(s, res.body, Number(res.headers['content-length']));
    const want = s.pinned ?? s.digest;
    if (want !== undefined && got !== want) {
      throw new SlipwayError('DIGEST_MISMATCH', `digest mismatch for ${shownUrl(s.url)}: ${got} (expected: ${want})`);
    }
    s.downloaded = true;
    const etag = header(res.headers.etag)?.replace(/^W\//, '');
    const lastModified = header(res.headers['last-modified']);
    return { digest: got, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
  }

  private async save(s: UrlSource, body: NodeJS.ReadableStream, declared: number): Promise<string> {
    const file = join(s.dir, s.name);
    const hash = createHash('sha256');
    let size = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(body, hashing, createWriteStream(file, { mode: 0o600 }));
    } catch (err) {
      throw new SlipwayError('BUILD', `failed to download ${shownUrl(s.url)}: ${(err as Error).message}`, { cause: err });
    }
    if (Number.isFinite(declared) && declared !== size) {
      throw new SlipwayError('BUILD', `failed to download ${shownUrl(s.url)}: got ${size} bytes of ${declared}`);
    }
    await chmod(file, 0o600);
    return `sha256:${hash.digest('hex')}`;
  }

  private recordPath(s: UrlSource): string {
    return join(urlRecordDir(this.root), `${createHash('sha256').update(`${s.url}\0${s.name}`).digest('hex')}.json`);
  }

  private async record(s: UrlSource): Promise<UrlRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(this.recordPath(s), 'utf8')) as Partial<UrlRecord>;
      return typeof r.etag === 'string' && typeof r.digest === 'string' ? (r as UrlRecord) : undefined;
    } catch {
      return undefined;
    }
  }

  private async saveRecord(s: UrlSource, rec: UrlRecord): Promise<void> {
    const path = this.recordPath(s);
    await mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(rec));
    await rename(tmp, path);
  }
}

/** Where the ETag records of URL downloads live. */
function urlRecordDir(root: string): string {
  return join(root, 'buildcache', 'http');
}

/**
 * Forgets the ETag records of every ADD <url> download (`builder prune -a`):
 * the next build of such a step downloads the file again.
 */
export async function forgetUrlRecords(root: string): Promise<void> {
  await rm(urlRecordDir(root), { recursive: true, force: true });
}

/** Options of UrlFetcher.entries. */
export interface UrlEntriesOptions {
  /** The destination as written. */
  dest: string;
  workdir: string;
  destKind: (abs: string) => DestKind | undefined;
  copy: CopyEntriesOptions;
}

/** What a download learnt. */
interface Fetched {
  digest: string;
  etag?: string;
  lastModified?: string;
}

/** What is kept about a URL that answered with an ETag. */
interface UrlRecord {
  etag: string;
  digest: string;
  lastModified?: string;
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch (err) {
    throw new SlipwayError('BUILD', `invalid URL ${shownUrl(url)}`, { cause: err });
  }
}

/** The URL sources of one ADD step. */
export interface RemoteSources {
  /** Whether every URL is pinned by --checksum (the key needs no request). */
  readonly pinned: boolean;
  /**
   * Contacts each URL under its own progress vertex named by the URL, as
   * BuildKit shows its HTTP source: unpinned ones to learn their digest,
   * pinned ones to download them, unless `cached` (the step's key has a
   * record): then the vertex says CACHED and nothing is fetched.
   */
  fetch(progress: Progress, cached: boolean): Promise<void>;
  /** The key parts of every URL (after fetch, unless pinned). */
  keyParts(): unknown[];
  /** Entry streams, one per URL, each in layer order. */
  entries(o: UrlEntriesOptions): AsyncIterable<LayerEntry>[];
  /** Removes the downloads. */
  close(): Promise<void>;
}

/** Options of urlSources. */
export interface UrlSourcesOptions {
  /** --checksum, when given. */
  checksum: string | undefined;
  /** The store root (ETag records). */
  root: string;
  tmpRoot: string;
}

/** Prepares the URL sources of an ADD (nothing is fetched until asked). */
export async function urlSources(urls: readonly string[], o: UrlSourcesOptions): Promise<RemoteSources> {
  const fetcher = new UrlFetcher(o.root, o.tmpRoot);
  const list: UrlSource[] = [];
  try {
    for (const u of urls) list.push(await fetcher.source(u, o.checksum));
  } catch (err) {
    await fetcher.close();
    throw err;
  }
  return {
    pinned: list.every((s) => s.pinned !== undefined),
    fetch: async (progress, cached) => {
      for (const s of list) {
        const v = progress.start(shownUrl(s.url));
        if (cached && s.pinned !== undefined) {
          v.cached();
          continue;
        }
        try {
          await (s.pinned !== undefined ? fetcher.download(s) : fetcher.resolve(s));
        } catch (err) {
          v.fail((err as Error).message);
          throw err;
        }
        v.done();
      }
    },
    keyParts: () => list.map((s) => UrlFetcher.keyPart(s)),
    entries: (eo) => list.map((s) => fetcher.entries(s, eo)),
    close: () => fetcher.close(),
  };
}

/**
 * The distribution API of one registry host: ping and authentication
 * challenge, manifests, blobs (HEAD, GET, cross-repository mounts,
 * monolithic, streamed and chunked uploads), tags and the catalog.
 * Registry errors become SlipwayErrors naming what failed, with the
 * registry's own error code and message; nothing secret is ever included.
 */
import type { Readable } from 'node:stream';
import { SlipwayError } from '../errors.js';
import { digestOf, type Digest } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import { Authorizer, parseChallenges } from './auth.js';
import { getCredentials, type Credentials } from './credentials.js';
import { HttpClient, defaultTimeoutMs, readBody, redact, sleep, type Body, type HttpResponse } from './http.js';
import { rawGet, type RawAnswer } from './raw-get.js';
import { allowsPlainHttp, probeTls, speaksPlainHttp, tlsSettings } from './tls.js';

/** The largest manifest or index accepted (the distribution spec suggests 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 << 20;

const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest].join(', ');

/** Options of connectRegistry. */
export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  /** Use these credentials instead of config.json's (null: anonymous). */
  credentials?: Credentials | null;
  /** Shared HTTP client (one per command). */
  http?: HttpClient;
}

/** A fetched manifest or index, verified against its digest. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

/** The result of a mount attempt. */
export type MountResult = { mounted: true } | { mounted: false; location: URL };

/** Makes an HTTP client honouring the environment's TLS and timeout settings. */
export function newHttpClient(env: NodeJS.ProcessEnv = process.env): HttpClient {
  const retries = Number(env.SLIPWAY_REGISTRY_RETRIES);
  return new HttpClient({
    tls: (hostPort) => tlsSettings(hostPort, env), timeoutMs: defaultTimeoutMs(env),
    ...(Number.isInteger(retries) && retries >= 0 ? { retries } : {}),
    ...(env.SLIPWAY_REGISTRY_BACKOFF_MS ? { backoffMs: Number(env.SLIPWAY_REGISTRY_BACKOFF_MS) } : {}),
  });
}

/** Connects to a registry host: finds the scheme, reads the auth challenge, loads credentials. */
export async function connectRegistry(host: string, options: ConnectOptions = {}): Promise<RegistryClient> {
  const env = options.env ?? process.env;
  const http = options.http ?? newHttpClient(env);
  const { base, res } = await ping(http, host, env);
  const body = await readBody(res, 1 << 16, 'ping response').catch(() => Buffer.alloc(0));
  if (res.status !== 200 && res.status !== 401) {
    throw new SlipwayError('REGISTRY', `${host} is not a registry API v2 endpoint: GET ${redact(new URL('/v2/', base))} answered ${res.status}${errorText(body)}`);
  }
  const credentials = options.credentials === null ? undefined : options.credentials ?? await getCredentials(host, env);
  const auth = new Authorizer({ http, host, credentials, challenges: res.status === 401 ? parseChallenges(res.headers['www-authenticate']) : [] });
  return new RegistryClient(host, base, http, auth);
}

async function ping(http: HttpClient, host: string, env: NodeJS.ProcessEnv): Promise<{ base: URL; res: HttpResponse }> {
  const secure = new URL(`https://${host}`);
  const plain = new URL(`http://${host}`);
  // A host that may speak plain HTTP is asked first whether it speaks TLS at all (no CAs loaded for a plain one).
  const mayBePlain = allowsPlainHttp(host, env);
  if (mayBePlain && await probeTls(host, Math.min(defaultTimeoutMs(env), 10_000)) === 'plain') {
    return { base: plain, res: await http.request({ method: 'GET', url: new URL('/v2/', plain) }) };
  }
  try {
    return { base: secure, res: await http.request({ method: 'GET', url: new URL('/v2/', secure) }) };
  } catch (err) {
    if (!mayBePlain || !speaksPlainHttp(err)) throw tlsHint(host, err, env);
  }
  return { base: plain, res: await http.request({ method: 'GET', url: new URL('/v2/', plain) }) };
}

function causeText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    parts.push(`${(e as { code?: string }).code ?? ''} ${(e as Error).message ?? ''}`);
  }
  return parts.join(' ');
}

function tlsHint(host: string, err: unknown, env: NodeJS.ProcessEnv): unknown {
  const text = causeText(err);
  if (/certificate|self.signed|UNABLE_TO_VERIFY|CERT_/i.test(text)) {
    return new SlipwayError('REGISTRY', `${host}: TLS certificate verification failed (${text.trim().split('\n')[0]}); put the registry's CA certificate in ${env.SLIPWAY_CERTS_D || '/etc/docker/certs.d'}/${host}/ca.crt, or list the host in SLIPWAY_INSECURE_REGISTRIES`, { cause: err });
  }
  return err;
}

function errorText(body: Buffer): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    const list = (doc.errors ?? []).map((e) => [e.code?.toLowerCase().replace(/_/g, ' '), e.message].filter(Boolean).join(': '));
    return list.length > 0 ? `: ${list.join('; ')}` : '';
  } catch {
    return '';
  }
}

/** Turns an unexpected answer into a SlipwayError (reads a little of the body for the registry's message). */
export async function responseError(res: HttpResponse, what: string): Promise<SlipwayError> {
  const body = await readBody(res, 1 << 16, 'error response').catch(() => Buffer.alloc(0));
  return statusError(res.status, body, what);
}

/** The SlipwayError for an unexpected status, with the registry's message from `body`. */
function statusError(status: number, body: Buffer, what: string): SlipwayError {
  const detail = errorText(body);
  switch (status) {
    case 401: return new SlipwayError('UNAUTHORIZED', `${what}: unauthorized (401)${detail || ': authentication required'}`);
    case 403: return new SlipwayError('UNAUTHORIZED', `${what}: access denied (403)${detail}`);
    case 404: return new SlipwayError('NOT_FOUND', `${what}: not found${detail}`);
    case 429: return new SlipwayError('REGISTRY', `${what}: too many requests (429), still refused after retries${detail}`);
    default: return new SlipwayError('REGISTRY', `${what}: the registry answered ${status}${detail}`);
  }
}

/** The first byte of a `Content-Range: bytes A-B/N` header, or undefined. */
function rangeStart(header: string | undefined): number | undefined {
  const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Request details for RegistryClient.send. */
export interface SendOptions {
  method: string;
  /** A path under the registry base, or an absolute URL (upload locations). */
  path: string | URL;
  scopes: readonly string[];
  headers?: Record<string, string>;
  body?: Body;
  retry?: boolean;
}

/** A connected registry host. */
export class RegistryClient {
  constructor(readonly host: string, readonly base: URL, readonly http: HttpClient, readonly auth: Authorizer) {}

  /** Sends a request with the right Authorization (only to this host's origin), refreshing a refused token once. */
  async send(options: SendOptions): Promise<HttpResponse> {
    const url = typeof options.path === 'string' ? new URL(options.path, this.base) : options.path;
    for (let attempt = 0; ; attempt++) {
      const headers = { ...(options.headers ?? {}) };
      if (url.origin === this.base.origin) {
        const h = await this.auth.header(options.scopes);
        if (h !== undefined) headers.authorization = h;
      }
      const res = await this.http.request({ method: options.method, url, headers, ...(options.body !== undefined ? { body: options.body } : {}), ...(options.retry !== undefined ? { retry: options.retry } : {}) });
      if (res.status === 401 && attempt === 0 && this.auth.scheme === 'bearer') {
        res.body.resume();
        this.auth.invalidate(options.scopes);
        continue;
      }
      return res;
    }
  }

  /** Fetches a manifest or index by tag or digest; verified when asked by digest. */
  async getManifest(repo: string, reference: string, display?: string): Promise<FetchedManifest> {
    const shown = display ?? `${this.host}/${repo}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
    const what = `manifest for ${shown}`;
    const res = await this.send({ method: 'GET', path: `/v2/${repo}/manifests/${reference}`, scopes: [pullScope(repo)], headers: { accept: MANIFEST_ACCEPT } });
    if (res.status === 404) {
      const body = await readBody(res, 1 << 16, 'error response').catch(() => Buffer.alloc(0));
      throw new SlipwayError('NOT_FOUND', `${what} not found${errorText(body) || ': manifest unknown'}`);
    }
    if (res.status !== 200) throw await responseError(res, what);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, what);
    const digest = digestOf(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new SlipwayError('DIGEST_MISMATCH', `${what}: the registry sent content with digest ${digest}`);
    }
    const header = res.headers['docker-content-digest'];
    if (!reference.startsWith('sha256:') && typeof header === 'string' && header.startsWith('sha256:') && header !== digest) {
      throw new SlipwayError('DIGEST_MISMATCH', `${what}: content digest ${digest} differs from the registry's Docker-Content-Digest ${header}`);
    }
    let mediaType = (res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    try {
      const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; schemaVersion?: number };
      if (typeof doc.mediaType === 'string') mediaType = doc.mediaType;
      else if (!mediaType || mediaType === 'application/json') mediaType = Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
    } catch (err) {
      throw new SlipwayError('REGISTRY', `${what}: not valid JSON`, { cause: err });
    }
    return { bytes, mediaType, digest };
  }

  /** Uploads a manifest under a tag or digest; returns its digest. */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const res = await this.send({ method: 'PUT', path: `/v2/${repo}/manifests/${reference}`, scopes: [pushScope(repo)], headers: { 'content-type': mediaType }, body: bytes });
    if (res.status !== 201 && res.status !== 200) throw await responseError(res, `pushing manifest ${this.host}/${repo}:${reference}`);
    res.body.resume();
    const digest = digestOf(bytes);
    const header = res.headers['docker-content-digest'];
    if (typeof header === 'string' && header !== '' && header !== digest) {
      throw new SlipwayError('DIGEST_MISMATCH', `pushing manifest ${this.host}/${repo}:${reference}: the registry stored digest ${header}, expected ${digest}`);
    }
    return digest;
  }

  /** The size of a blob in the repository, or undefined when absent. */
  async blobSize(repo: string, digest: Digest, scope = pullScope(repo)): Promise<number | undefined> {
    const res = await this.send({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, scopes: [scope] });
    res.body.resume();
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await responseError(res, `checking blob ${digest} in ${this.host}/${repo}`);
    return Number(res.headers['content-length'] ?? 0);
  }

  /** Opens a blob for reading (redirects to a blob store are followed without credentials). */
  async getBlob(repo: string, digest: Digest): Promise<HttpResponse> {
    const res = await this.send({ method: 'GET', path: `/v2/${repo}/blobs/${digest}`, scopes: [pullScope(repo)] });
    if (res.status !== 200) throw await responseError(res, `blob ${digest} of ${this.host}/${repo}`);
    return res;
  }

  /**
   * Opens a blob for reading from byte `offset` on (a `Range: bytes=N-`
   * request). `start` is where the body begins: `offset` when the registry
   * answered 206 with that range, else 0 (it ignored the range, or refused
   * it with 416 and the whole blob was asked for again).
   */
  async getBlobFrom(repo: string, digest: Digest, offset: number): Promise<{ res: HttpResponse; start: number }> {
    if (offset <= 0) return { res: await this.getBlob(repo, digest), start: 0 };
    const res = await this.send({ method: 'GET', path: `/v2/${repo}/blobs/${digest}`, scopes: [pullScope(repo)], headers: { range: `bytes=${offset}-` } });
    if (res.status === 206 && rangeStart(res.headers['content-range']) === offset) return { res, start: offset };
    if (res.status === 200) return { res, start: 0 };
    if (res.status !== 206 && res.status !== 416) throw await responseError(res, `blob ${digest} of ${this.host}/${repo}`);
    res.body.destroy();
    return { res: await this.getBlob(repo, digest), start: 0 };
  }

  /**
   * getBlobFrom over a raw connection whose body is read straight into ring
   * slots (raw-get.ts): redirects followed (credentials only to this
   * host), a refused token renewed once, a range the registry ignores or
   * refuses asked again from byte 0. Undefined when the connection fails
   * before an answer, or the answer is not a plain success (5xx, 429, a
   * chunked body...): the caller then goes through the HttpClient, which
   * retries and reports. 401/403/404 are thrown as getBlobFrom throws them.
   */
  async openBlobRaw(repo: string, digest: Digest, offset: number): Promise<{ answer: RawAnswer; start: number } | undefined> {
    const what = `blob ${digest} of ${this.host}/${repo}`;
    const scopes = [pullScope(repo)];
    let url = new URL(`/v2/${repo}/blobs/${digest}`, this.base);
    let from = offset;
    for (let i = 0, renewed = false; i < 10; i++) {
      const headers: Record<string, string> = from > 0 ? { range: `bytes=${from}-` } : {};
      const auth = url.origin === this.base.origin ? await this.auth.header(scopes) : undefined;
      if (auth !== undefined) headers.authorization = auth;
      const answer = await rawGet({ url, headers, timeoutMs: this.http.timeoutMs, ...(url.protocol === 'https:' ? { tls: this.http.tlsFor(url) } : {}) }).catch(() => undefined);
      if (answer === undefined) return undefined;
      const { status } = answer;
      const location = answer.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location !== undefined) {
        answer.close();
        url = new URL(location, url);
      } else if (status === 401 && !renewed && this.auth.scheme === 'bearer') {
        answer.close();
        this.auth.invalidate(scopes);
        renewed = true;
      } else if (status === 416 && from > 0) {
        answer.close();
        from = 0;
      } else if ((status === 200 || (status === 206 && rangeStart(answer.headers['content-range']) === from)) && answer.contentLength !== undefined) {
        return { answer, start: status === 206 ? from : 0 };
      } else if (status === 401 || status === 403 || status === 404) {
        throw statusError(status, await answer.text().catch(() => Buffer.alloc(0)), what);
      } else {
        answer.close();
        // A transient refusal is waited out (Retry-After honoured) before the HttpClient asks again.
        if (status === 429 || status >= 500) await sleep(this.http.retryDelay(status, answer.headers['retry-after'], 0));
        return undefined;
      }
    }
    return undefined;
  }

  /** Tries a cross-repository mount; when refused, the upload session the registry opened instead. */
  async mountBlob(repo: string, digest: Digest, from: string): Promise<MountResult> {
    const path = `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const res = await this.send({ method: 'POST', path, scopes: [pushScope(repo), pullScope(from)] });
    res.body.resume();
    if (res.status === 201) return { mounted: true };
    if (res.status === 202) return { mounted: false, location: this.location(res) };
    throw await responseError(res, `mounting blob ${digest} into ${this.host}/${repo}`);
  }

  /** Opens an upload session; returns its location. */
  async startUpload(repo: string): Promise<URL> {
    const res = await this.send({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, scopes: [pushScope(repo)] });
    res.body.resume();
    if (res.status !== 202) throw await responseError(res, `starting an upload to ${this.host}/${repo}`);
    return this.location(res);
  }

  /** Sends bytes to an upload session (one PATCH, or one chunk with its Content-Range); returns the next location. */
  async patchUpload(repo: string, location: URL, body: Body, range?: { start: number; length: number }): Promise<URL> {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (range) {
      headers['content-range'] = `${range.start}-${range.start + range.length - 1}`;
      headers['content-length'] = String(range.length);
    } else if (!Buffer.isBuffer(body)) {
      headers['transfer-encoding'] = 'chunked';
    }
    const res = await this.send({ method: 'PATCH', path: location, scopes: [pushScope(repo)], headers, body, retry: false });
    res.body.resume();
    if (res.status !== 202 && res.status !== 204) throw await responseError(res, `uploading to ${this.host}/${repo}`);
    return this.location(res);
  }

  /** Closes an upload session with the blob's digest (and the last bytes, for a monolithic upload). */
  async finishUpload(repo: string, location: URL, digest: Digest, body?: Buffer): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const res = await this.send({
      method: 'PUT', path: url, scopes: [pushScope(repo)], headers: { 'content-type': 'application/octet-stream' }, body: body ?? Buffer.alloc(0),
    });
    res.body.resume();
    if (res.status !== 201 && res.status !== 204) throw await responseError(res, `finishing the upload of ${digest} to ${this.host}/${repo}`);
  }

  /** Tags of a repository (all pages). */
  async tags(repo: string): Promise<string[]> {
    const out: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list?n=1000`;
    while (path !== undefined) {
      const res = await this.send({ method: 'GET', path, scopes: [pullScope(repo)] });
      if (res.status !== 200) throw await responseError(res, `tags of ${this.host}/${repo}`);
      const doc = JSON.parse((await readBody(res, 16 << 20, 'tag list')).toString('utf8')) as { tags?: string[] | null };
      out.push(...(doc.tags ?? []));
      path = nextLink(res);
    }
    return out;
  }

  /** Repository names from /v2/_catalog (at most `limit`). */
  async catalog(limit: number): Promise<string[]> {
    const res = await this.send({ method: 'GET', path: `/v2/_catalog?n=${limit}`, scopes: ['registry:catalog:*'] });
    if (res.status !== 200) throw await responseError(res, `the catalog of ${this.host}`);
    const doc = JSON.parse((await readBody(res, 16 << 20, 'catalog')).toString('utf8')) as { repositories?: string[] | null };
    return doc.repositories ?? [];
  }

  private location(res: HttpResponse): URL {
    const loc = res.headers.location;
    if (!loc) throw new SlipwayError('REGISTRY', `${this.host}: upload answer without a Location header`);
    return new URL(loc, this.base);
  }
}

function nextLink(res: HttpResponse): string | undefined {
  const link = res.headers.link;
  const m = typeof link === 'string' ? /<([^>]+)>;\s*rel="?next"?/.exec(link) : null;
  return m?.[1];
}

/** The token scope to read a repository. */
export function pullScope(repo: string): string {
  return `repository:${repo}:pull`;
}

/** The token scope to write a repository. */
export function pushScope(repo: string): string {
  return `repository:${repo}:pull,push`;
}

/** A readable stream's bytes as a Body factory is not replayable; this wraps a one-shot stream. */
export function oneShot(stream: Readable): () => Readable {
  let used = false;
  return () => {
    if (used) throw new SlipwayError('INTERNAL', 'upload stream cannot be replayed');
    used = true;
    return stream;
  };
}

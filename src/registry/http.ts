/**
 * A small HTTP(S) client for registry traffic over node:http/https (not
 * fetch: per-host CA certificates and client certificates need our own
 * agents). It follows redirects itself and drops the Authorization header
 * whenever a redirect leaves the origin it was meant for, bounds every
 * request with timeouts (no answer, or a body that stops flowing), and
 * retries transient failures (5xx, 429 with Retry-After, connection
 * resets) with exponential back-off when the request body can be replayed.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type tls from 'node:tls';
import { SlipwayError } from '../errors.js';
import { secureContext } from './tls.js';

/** TLS settings of one host. */
export interface TlsSettings {
  /** CA certificates trusted besides Node's bundled roots (PEM, one certificate or a bundle each). */
  extraCa?: string[];
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

/** A request body: bytes, or a factory of a fresh stream (called again on a retry). */
export type Body = Buffer | (() => Readable);

/** One request. */
export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Body;
  /** Follow redirects (GET/HEAD). Default true. */
  followRedirects?: boolean;
  /** Retry transient failures. Default: true when the body can be replayed. */
  retry?: boolean;
}

/** An answer; `body` must be consumed or destroyed. */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
  /** The URL that answered (after redirects). */
  url: URL;
}

/** Options of HttpClient. */
export interface HttpClientOptions {
  /** TLS settings for a host (`host:port`). */
  tls: (hostPort: string) => TlsSettings;
  /** Milliseconds without a byte before a request fails. */
  timeoutMs: number;
  /** How many times a transient failure is retried. */
  retries?: number;
  /** First back-off in milliseconds (doubles each time). */
  backoffMs?: number;
  /** Longest wait honoured for Retry-After, in milliseconds. */
  maxRetryAfterMs?: number;
}

const MAX_REDIRECTS = 10;
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);

/** The default timeout: SLIPWAY_REGISTRY_TIMEOUT seconds, else 60. */
export function defaultTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.SLIPWAY_REGISTRY_TIMEOUT);
  return Number.isFinite(v) && v > 0 ? v * 1000 : 60_000;
}

/** HTTP client with per-host agents, timeouts, redirects and retries. */
export class HttpClient {
  private readonly agents = new Map<string, http.Agent>();
  private readonly contexts = new Map<string, { secureContext: tls.SecureContext; rejectUnauthorized: boolean }>();

  constructor(private readonly options: HttpClientOptions) {}

  /** Closes idle connections. */
  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  /**
   * Sends `req`, following redirects and retrying transient failures.
   * Network failures become SlipwayError REGISTRY with the URL named.
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const replayable = req.body === undefined || Buffer.isBuffer(req.body) || typeof req.body === 'function';
    const retries = (req.retry ?? replayable) ? (this.options.retries ?? 4) : 0;
    let attempt = 0;
    for (;;) {
      let res: HttpResponse;
      try {
        res = await this.follow(req);
      } catch (err) {
        if (attempt < retries && isTransient(err)) {
          await sleep(this.backoff(attempt++));
          continue;
        }
        throw networkError(req, err);
      }
      if (attempt < retries && (res.status >= 500 || res.status === 429)) {
        const wait = this.retryDelay(res.status, res.headers['retry-after'], attempt);
        res.body.resume();
        attempt++;
        await sleep(wait);
        continue;
      }
      return res;
    }
  }

  /** How long to wait before retry number `attempt + 1` of a request answered `status` (5xx, or 429 with its Retry-After). */
  retryDelay(status: number, retryAfter: string | undefined, attempt: number): number {
    return status === 429 ? this.retryAfter(retryAfter, attempt) : this.backoff(attempt);
  }

  private backoff(attempt: number): number {
    return (this.options.backoffMs ?? 250) * 2 ** attempt;
  }

  private retryAfter(value: string | undefined, attempt: number): number {
    const max = this.options.maxRetryAfterMs ?? 60_000;
    if (value === undefined) return this.backoff(attempt);
    const secs = Number(value);
    const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(value) - Date.now();
    return Math.min(Math.max(ms, 0), max);
  }

  private async follow(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let method = req.method;
    let headers = { ...(req.headers ?? {}) };
    let body = req.body;
    for (let i = 0; ; i++) {
      const res = await this.once(method, url, headers, body);
      const location = res.headers.location;
      const redirect = [301, 302, 303, 307, 308].includes(res.status) && location !== undefined;
      if (!redirect || req.followRedirects === false || i >= MAX_REDIRECTS) return res;
      res.body.resume();
      const next = new URL(location, url);
      // Credentials stay with the origin they were issued for: a blob store elsewhere gets none.
      if (next.origin !== url.origin) headers = withoutAuthorization(headers);
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        delete headers['content-length'];
        delete headers['content-type'];
      }
      url = next;
    }
  }

  /**
   * The TLS options of connections to `url`'s host: one secure context for
   * every connection to it (made per connection, it would load the CAs each
   * time), shared with connections made outside the agents (blob bodies).
   */
  tlsFor(url: URL): { secureContext: tls.SecureContext; rejectUnauthorized: boolean } {
    let t = this.contexts.get(url.host);
    if (t === undefined) {
      const settings = this.options.tls(url.host);
      t = { secureContext: secureContext(settings), rejectUnauthorized: settings.rejectUnauthorized };
      this.contexts.set(url.host, t);
    }
    return t;
  }

  /** Milliseconds without a byte before a request fails. */
  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  private agent(url: URL): http.Agent {
    const key = `${url.protocol}//${url.host}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      if (url.protocol === 'https:') {
        agent = new https.Agent({ keepAlive: true, maxSockets: 16, ...this.tlsFor(url) });
      } else {
        agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
      }
      this.agents.set(key, agent);
    }
    return agent;
  }

  private once(method: string, url: URL, headers: Record<string, string>, body: Body | undefined): Promise<HttpResponse> {
    const mod = url.protocol === 'https:' ? https : http;
    const timeout = this.options.timeoutMs;
    return new Promise((resolve, reject) => {
      const h: Record<string, string> = { 'user-agent': 'slipway/0.1.0', ...headers };
      if (Buffer.isBuffer(body)) h['content-length'] = String(body.length);
      const r = mod.request(url, { method, headers: h, agent: this.agent(url) });
      const timer = setTimeout(() => r.destroy(timeoutError(method, url, timeout)), timeout);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      r.on('error', fail);
      r.setTimeout(timeout, () => r.destroy(timeoutError(method, url, timeout)));
      r.on('response', (res) => {
        clearTimeout(timer);
        res.setTimeout(timeout, () => res.destroy(timeoutError(method, url, timeout)));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      });
      if (body === undefined) r.end();
      else if (Buffer.isBuffer(body)) r.end(body);
      else {
        const s = body();
        s.on('error', (err) => r.destroy(err));
        s.pipe(r);
      }
    });
  }
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'authorization') out[k] = v;
  return out;
}

/** Marks a request that got no answer in time. */
export class TimeoutError extends Error {
  readonly code = 'SLIPWAY_TIMEOUT';
}

function timeoutError(method: string, url: URL, ms: number): TimeoutError {
  return new TimeoutError(`${method} ${redact(url)}: no response within ${ms / 1000}s`);
}

function isTransient(err: unknown): boolean {
  if (err instanceof SlipwayError) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}

function networkError(req: HttpRequest, err: unknown): SlipwayError {
  if (err instanceof SlipwayError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new SlipwayError('REGISTRY', `${req.method} ${redact(req.url)}: ${msg}`, { cause: err });
}

/** The URL without query parameters that could carry secrets (upload state tokens, signatures). */
export function redact(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Reads a response body whole, refusing more than `max` bytes. */
export async function readBody(res: HttpResponse, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    res.body.destroy();
    throw new SlipwayError('REGISTRY', `${what} is ${declared} bytes, over the ${max}-byte limit`);
  }
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > max) {
        res.body.destroy();
        throw new SlipwayError('REGISTRY', `${what} is over the ${max}-byte limit`);
      }
      parts.push(chunk);
    }
  } catch (err) {
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('REGISTRY', `reading ${what}: ${(err as Error).message}`, { cause: err });
  }
  return Buffer.concat(parts);
}

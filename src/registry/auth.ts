/**
 * Registry authentication: the WWW-Authenticate challenge of `GET /v2/`,
 * Basic auth, and Bearer tokens from the challenge's realm (anonymous, with
 * a username and password, or with an identity/refresh token), cached per
 * scope until they expire. Credentials go only to the registry host and
 * its token realm; the Authorization header is built per request.
 */
import { SlipwayError } from '../errors.js';
import type { Credentials } from './credentials.js';
import { readBody, type HttpClient } from './http.js';

/** One parsed challenge: `Bearer realm="...",service="..."`. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header (one or more challenges). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(', ') : header;
  const out: Challenge[] = [];
  let cur: Challenge | undefined;
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /[\s,]/.test(text[i] ?? '')) i++;
    const tok = /^[A-Za-z0-9_.!#$%&'*+^`|~-]+/.exec(text.slice(i))?.[0];
    if (tok === undefined) break;
    i += tok.length;
    let j = i;
    while (text[j] === ' ') j++;
    if (text[j] !== '=') {
      cur = { scheme: tok.toLowerCase(), params: {} };
      out.push(cur);
      continue;
    }
    i = j + 1;
    while (text[i] === ' ') i++;
    let value = '';
    if (text[i] === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\') i++;
        value += text[i] ?? '';
      }
      i++;
    } else {
      value = /^[^\s,]*/.exec(text.slice(i))?.[0] ?? '';
      i += value.length;
    }
    if (cur) cur.params[tok.toLowerCase()] = value;
  }
  return out;
}

interface CachedToken {
  value: string;
  expires: number;
}

/** Options of Authorizer. */
export interface AuthorizerOptions {
  http: HttpClient;
  /** The registry host (for messages). */
  host: string;
  credentials: Credentials | undefined;
  challenges: Challenge[];
}

/** Builds Authorization headers for one registry host. */
export class Authorizer {
  private readonly tokens = new Map<string, CachedToken>();

  constructor(private readonly options: AuthorizerOptions) {}

  /** True when the registry asked for no authentication. */
  get anonymous(): boolean {
    return this.options.challenges.length === 0;
  }

  /** The scheme the registry asked for ('bearer', 'basic') or undefined. */
  get scheme(): string | undefined {
    return this.bearer() ? 'bearer' : this.basic() ? 'basic' : undefined;
  }

  private bearer(): Challenge | undefined {
    return this.options.challenges.find((c) => c.scheme === 'bearer');
  }

  private basic(): Challenge | undefined {
    return this.options.challenges.find((c) => c.scheme === 'basic');
  }

  /** Forgets cached tokens for the scopes (after a 401: the token expired or lacks rights). */
  invalidate(scopes: readonly string[]): void {
    this.tokens.delete(scopes.join(' '));
  }

  /** The Authorization header value for a request needing `scopes`, or undefined. */
  async header(scopes: readonly string[]): Promise<string | undefined> {
    const bearer = this.bearer();
    const creds = this.options.credentials;
    if (bearer) return `Bearer ${await this.token(bearer, scopes)}`;
    if (this.basic()) {
      if (!creds) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    return undefined;
  }

  private async token(ch: Challenge, scopes: readonly string[]): Promise<string> {
    const key = scopes.join(' ');
    const hit = this.tokens.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    const fetched = await this.fetchToken(ch, scopes);
    this.tokens.set(key, fetched);
    return fetched.value;
  }

  private async fetchToken(ch: Challenge, scopes: readonly string[]): Promise<CachedToken> {
    const realm = ch.params.realm;
    if (!realm) throw new SlipwayError('REGISTRY', `${this.options.host}: bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch (err) {
      throw new SlipwayError('REGISTRY', `${this.options.host}: invalid token realm`, { cause: err });
    }
    const creds = this.options.credentials;
    const service = ch.params.service;
    if (creds?.identityToken) return this.refreshToken(url, service, scopes, creds.identityToken);
    if (service) url.searchParams.set('service', service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (creds) {
      url.searchParams.set('account', creds.username);
      headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    const res = await this.options.http.request({ method: 'GET', url, headers });
    const body = await readBody(res, 1 << 20, 'token response');
    if (res.status === 401 || res.status === 403) {
      throw new SlipwayError('UNAUTHORIZED', `${this.options.host}: ${creds ? 'authentication failed: the username or password was refused' : 'authentication required'} (token server answered ${res.status})`);
    }
    if (res.status !== 200) throw new SlipwayError('REGISTRY', `${this.options.host}: token server answered ${res.status}`);
    return parseToken(body, this.options.host);
  }

  private async refreshToken(url: URL, service: string | undefined, scopes: readonly string[], refresh: string): Promise<CachedToken> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, client_id: 'slipway' });
    if (service) form.set('service', service);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    const res = await this.options.http.request({
      method: 'POST', url, body: Buffer.from(form.toString()),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const body = await readBody(res, 1 << 20, 'token response');
    if (res.status !== 200) throw new SlipwayError('UNAUTHORIZED', `${this.options.host}: the identity token was refused (token server answered ${res.status})`);
    return parseToken(body, this.options.host);
  }
}

function parseToken(body: Buffer, host: string): CachedToken {
  let doc: { token?: string; access_token?: string; expires_in?: number };
  try {
    doc = JSON.parse(body.toString('utf8')) as typeof doc;
  } catch (err) {
    throw new SlipwayError('REGISTRY', `${host}: the token server's answer is not JSON`, { cause: err });
  }
  const value = doc.token || doc.access_token;
  if (!value) throw new SlipwayError('REGISTRY', `${host}: the token server's answer has no token`);
  // Refresh a little early; 60 s is the spec's default lifetime.
  const life = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
  return { value, expires: Date.now() + Math.max(life - 5, 1) * 1000 };
}

/**
 * `search`: Docker Hub's search API (`GET /v1/search?q=TERM&n=LIMIT` on
 * the index server, https://index.docker.io, or $SLIPWAY_INDEX_SERVER),
 * the same API on a private registry named in the term
 * (`registry.example.com/term`), and for registries without it (CNCF
 * distribution, Harbor's v2 API) the names of `/v2/_catalog` that contain
 * the term.
 */
import { SlipwayError } from '../errors.js';
import { connectRegistry, newHttpClient, responseError } from './client.js';
import type { Credentials } from './credentials.js';
import { readBody, type HttpClient } from './http.js';

/** One search result, as the Hub's API returns it. */
export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

/** Options of searchImages. */
export interface SearchOptions {
  term: string;
  limit: number;
  env?: NodeJS.ProcessEnv;
  credentials?: Credentials | null;
}

/** Docker's ParseSearchIndexInfo: a leading host names the registry, else Docker Hub. */
export function splitSearchTerm(term: string): { host: string | undefined; query: string } {
  const slash = term.indexOf('/');
  if (slash > 0) {
    const first = term.slice(0, slash);
    if (first === 'localhost' || first.includes('.') || first.includes(':')) {
      if (['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(first)) return { host: undefined, query: term.slice(slash + 1) };
      return { host: first, query: term.slice(slash + 1) };
    }
  }
  return { host: undefined, query: term };
}

async function v1Search(http: HttpClient, base: URL, query: string, limit: number): Promise<SearchResult[] | undefined> {
  const url = new URL('/v1/search', base);
  url.searchParams.set('q', query);
  url.searchParams.set('n', String(limit));
  const res = await http.request({ method: 'GET', url });
  if (res.status === 404) {
    res.body.resume();
    return undefined;
  }
  if (res.status !== 200) throw await responseError(res, `searching ${url.host}`);
  const doc = JSON.parse((await readBody(res, 16 << 20, 'search results')).toString('utf8')) as { results?: Partial<SearchResult>[] };
  return (doc.results ?? []).map((r) => ({
    name: String(r.name ?? ''), description: String(r.description ?? ''), star_count: Number(r.star_count ?? 0),
    is_official: Boolean(r.is_official), is_automated: Boolean(r.is_automated),
  }));
}

/** Searches; results in the server's order (the CLI sorts and filters). */
export async function searchImages(options: SearchOptions): Promise<SearchResult[]> {
  const env = options.env ?? process.env;
  if (!(options.limit >= 1 && options.limit <= 100)) {
    throw new SlipwayError('INVALID_ARGUMENT', `Limit ${options.limit} is outside the range of [1, 100]`);
  }
  const { host, query } = splitSearchTerm(options.term);
  const http = newHttpClient(env);
  try {
    if (host === undefined) {
      const base = new URL(env.SLIPWAY_INDEX_SERVER || 'https://index.docker.io');
      return (await v1Search(http, base, query, options.limit)) ?? [];
    }
    const client = await connectRegistry(host, { env, http, ...(options.credentials !== undefined ? { credentials: options.credentials } : {}) });
    // Registries without the search API answer 404 (or an error): fall back to the catalog.
    const v1 = await v1Search(http, client.base, query, options.limit).catch(() => undefined);
    if (v1 !== undefined) return v1;
    const names = await client.catalog(1000);
    return names.filter((n) => n.includes(query)).slice(0, options.limit).map((n) => ({
      name: `${host}/${n}`, description: '', star_count: 0, is_official: false, is_automated: false,
    }));
  } finally {
    http.close();
  }
}

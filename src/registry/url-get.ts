/**
 * A GET of a plain http(s) URL (`build URL`, `import URL`), with the TLS
 * trust registries get (system store, the user's extra CAs, certs.d; see
 * tls.ts), redirects followed. Global fetch trusts only Node's bundled
 * roots (plus NODE_EXTRA_CA_CERTS, which the npm bin hands on to tls.ts).
 */
import type http from 'node:http';
import { SlipwayError } from '../errors.js';
import { HttpClient, defaultTimeoutMs } from './http.js';
import { tlsSettings } from './tls.js';

/** A successful answer: its body, which must be read to the end or destroyed. */
export interface UrlBody {
  body: http.IncomingMessage;
}

/**
 * The HTTP client for plain URLs (`ADD <url>`, `build URL`, `import URL`):
 * TLS always verified (an insecure-registries entry does not apply here).
 */
export function urlClient(options: { retries?: number } = {}): HttpClient {
  return new HttpClient({ tls: (host) => ({ ...tlsSettings(host), rejectUnauthorized: true }), timeoutMs: defaultTimeoutMs(), ...options });
}

/**
 * GETs `url`; throws SlipwayError IO with `describe(reason)` as its message
 * when the request fails or the status is not 2xx ("404 Not Found").
 * The connection is closed once the body ends.
 */
export async function getUrl(url: string, describe: (reason: string) => string): Promise<UrlBody> {
  // No retries: as docker's own GET, a refused or failed request is reported at once.
  const client = urlClient({ retries: 0 });
  let res;
  try {
    res = await client.request({ method: 'GET', url: new URL(url) });
  } catch (err) {
    client.close();
    // The transport names the URL too: keep only what went wrong.
    const cause = (err as { cause?: unknown }).cause;
    const reason = err instanceof SlipwayError && cause instanceof Error ? cause.message : (err as Error).message;
    throw new SlipwayError('IO', describe(reason), { cause: err });
  }
  res.body.once('close', () => client.close());
  if (res.status < 200 || res.status >= 300) {
    res.body.destroy();
    throw new SlipwayError('IO', describe(`${res.status} ${res.body.statusMessage ?? ''}`.trim()));
  }
  return { body: res.body };
}

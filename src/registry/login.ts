/**
 * `login` and `logout`: credentials are checked against the registry
 * before they are saved (Basic: `GET /v2/` with them; Bearer: a token from
 * the realm with them, then `GET /v2/` with the token), then stored in
 * config.json or its credential helper.
 */
import { SlipwayError } from '../errors.js';
import { connectRegistry, newHttpClient } from './client.js';
import { authKey, eraseCredentials, storeCredentials, type Credentials, type StoreResult } from './credentials.js';
import { redact } from './http.js';

/** The registry host for a `login`/`logout` SERVER argument (none: Docker Hub). */
export function loginHost(server: string | undefined): string {
  if (server === undefined || server === '') return 'registry-1.docker.io';
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return ['docker.io', 'index.docker.io'].includes(host) ? 'registry-1.docker.io' : host;
}

/** The name Docker prints for a server ('https://index.docker.io/v1/' for Docker Hub). */
export function loginDisplayName(server: string | undefined): string {
  return authKey(loginHost(server));
}

/** Checks `creds` against the registry; throws UNAUTHORIZED with Docker's wording when refused. */
export async function verifyLogin(server: string | undefined, creds: Credentials, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const host = loginHost(server);
  const http = newHttpClient(env);
  try {
    const client = await connectRegistry(host, { env, http, credentials: creds });
    if (client.auth.anonymous) return;
    const url = new URL('/v2/', client.base);
    let res;
    try {
      res = await client.send({ method: 'GET', path: url, scopes: [] });
    } catch (err) {
      if (err instanceof SlipwayError && err.code === 'UNAUTHORIZED') {
        throw new SlipwayError('UNAUTHORIZED', `login attempt to ${redact(url)} failed with status: 401 Unauthorized`, { cause: err });
      }
      throw err;
    }
    res.body.resume();
    if (res.status !== 200) {
      const text = res.status === 401 ? '401 Unauthorized' : res.status === 403 ? '403 Forbidden' : String(res.status);
      throw new SlipwayError('UNAUTHORIZED', `login attempt to ${redact(url)} failed with status: ${text}`);
    }
  } finally {
    http.close();
  }
}

/** Verifies and saves credentials for a server. */
export async function login(server: string | undefined, creds: Credentials, env: NodeJS.ProcessEnv = process.env): Promise<StoreResult> {
  await verifyLogin(server, creds, env);
  return storeCredentials(loginHost(server), creds, env);
}

/** Removes saved credentials for a server; false when there were none. */
export async function logout(server: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return eraseCredentials(loginHost(server), env);
}

/**
 * Credentials as the docker CLI keeps them in `config.json` ($DOCKER_CONFIG,
 * else ~/.docker): `credHelpers` (per registry), then `credsStore` (for
 * all), then `auths` (base64 `user:password`, or an `identitytoken`).
 * Helpers are the `docker-credential-NAME` programs, spoken to with
 * `get`/`store`/`erase` over stdin and stdout. Secrets are never logged or
 * put into error messages.
 */
import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SlipwayError, isErrno } from '../errors.js';

/** Credentials for one registry. */
export interface Credentials {
  username: string;
  password: string;
  /** An OAuth refresh token (Docker's identity token) instead of a password. */
  identityToken?: string;
}

/** The key Docker uses for Docker Hub in config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

/** The docker config directory: $DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

/** The config.json path. */
export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(dockerConfigDir(env), 'config.json');
}

/**
 * The config.json key for a registry host, as docker/cli: Docker Hub
 * (docker.io, index.docker.io, registry-1.docker.io) is
 * `https://index.docker.io/v1/`, anything else its host[:port].
 */
export function authKey(server: string): string {
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host)) return DOCKER_HUB_AUTH_KEY;
  return host;
}

async function readConfig(env: NodeJS.ProcessEnv): Promise<ConfigFile> {
  const file = dockerConfigFile(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return {};
    throw new SlipwayError('IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as ConfigFile;
  } catch (err) {
    throw new SlipwayError('INVALID_ARGUMENT', `${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

async function writeConfig(env: NodeJS.ProcessEnv, cfg: ConfigFile): Promise<void> {
  const dir = dockerConfigDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'config.json');
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(cfg, null, '\t')}`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file).catch(async (err: unknown) => {
    await unlink(tmp).catch(() => undefined);
    throw err;
  });
}

function helperFor(cfg: ConfigFile, key: string): string | undefined {
  const host = key === DOCKER_HUB_AUTH_KEY ? key : key;
  return cfg.credHelpers?.[host] ?? (cfg.credsStore || undefined);
}

/** The user's environment for a helper: NODE_EXTRA_CA_CERTS back under its name if the npm bin moved it (a helper may be a Node program). */
function helperEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const moved = env.SLIPWAY_EXTRA_CA_CERTS;
  if (!moved || env.NODE_EXTRA_CA_CERTS) return env;
  const out: NodeJS.ProcessEnv = { ...env, NODE_EXTRA_CA_CERTS: moved };
  delete out.SLIPWAY_EXTRA_CA_CERTS;
  return out;
}

/** Runs `docker-credential-NAME VERB` with `input` on stdin; returns stdout. */
function runHelper(name: string, verb: string, input: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${name}`, [verb], { stdio: ['pipe', 'pipe', 'pipe'], env: helperEnv() });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    child.stderr.resume();
    child.on('error', (err) => reject(new SlipwayError('UNAUTHORIZED', `credential helper docker-credential-${name} could not be run: ${err.message}`, { cause: err })));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

async function helperGet(name: string, key: string): Promise<Credentials | undefined> {
  const { code, out } = await runHelper(name, 'get', key);
  if (code !== 0) {
    if (/credentials not found/i.test(out)) return undefined;
    throw new SlipwayError('UNAUTHORIZED', `credential helper docker-credential-${name} failed to get credentials for ${key}`);
  }
  const doc = JSON.parse(out) as { Username?: string; Secret?: string };
  if (!doc.Secret) return undefined;
  if (doc.Username === '<token>') return { username: '', password: '', identityToken: doc.Secret };
  return { username: doc.Username ?? '', password: doc.Secret };
}

/** Credentials for a registry host, or undefined (anonymous). */
export async function getCredentials(server: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const key = authKey(server);
  const cfg = await readConfig(env);
  const helper = helperFor(cfg, key);
  if (helper !== undefined) return helperGet(helper, key);
  const auths = cfg.auths ?? {};
  const entry = auths[key] ?? Object.entries(auths).find(([k]) => authKey(k) === key)?.[1];
  if (entry === undefined) return undefined;
  let username = entry.username ?? '';
  let password = entry.password ?? '';
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) throw new SlipwayError('INVALID_ARGUMENT', `${dockerConfigFile(env)}: invalid auth configuration for ${key}`);
    username = decoded.slice(0, i);
    password = decoded.slice(i + 1);
  }
  if (entry.identitytoken) return { username, password, identityToken: entry.identitytoken };
  if (username === '' && password === '') return undefined;
  return { username, password };
}

/** Where storeCredentials put the credentials. */
export interface StoreResult {
  /** The helper used, or undefined when written into config.json in plain text. */
  helper: string | undefined;
  file: string;
}

/** Saves credentials for a host (helper or config.json `auths`). */
export async function storeCredentials(server: string, creds: Credentials, env: NodeJS.ProcessEnv = process.env): Promise<StoreResult> {
  const key = authKey(server);
  const cfg = await readConfig(env);
  const helper = helperFor(cfg, key);
  const file = dockerConfigFile(env);
  if (helper !== undefined) {
    const doc = { ServerURL: key, Username: creds.identityToken ? '<token>' : creds.username, Secret: creds.identityToken ?? creds.password };
    const { code } = await runHelper(helper, 'store', JSON.stringify(doc));
    if (code !== 0) throw new SlipwayError('UNAUTHORIZED', `credential helper docker-credential-${helper} failed to store credentials for ${key}`);
    cfg.auths = { ...(cfg.auths ?? {}), [key]: {} };
    await writeConfig(env, cfg);
    return { helper, file };
  }
  const entry: { auth: string; identitytoken?: string } = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  if (creds.identityToken) entry.identitytoken = creds.identityToken;
  cfg.auths = { ...(cfg.auths ?? {}), [key]: entry };
  await writeConfig(env, cfg);
  return { helper: undefined, file };
}

/** Removes credentials for a host; returns false when there were none in config.json. */
export async function eraseCredentials(server: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const key = authKey(server);
  const cfg = await readConfig(env);
  const helper = helperFor(cfg, key);
  if (helper !== undefined) await runHelper(helper, 'erase', key);
  const auths = cfg.auths ?? {};
  const had = key in auths;
  for (const k of Object.keys(auths)) if (authKey(k) === key) delete auths[k];
  cfg.auths = auths;
  if (had || helper !== undefined) await writeConfig(env, cfg);
  return had;
}

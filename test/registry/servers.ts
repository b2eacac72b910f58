/**
 * Test registries: Debian's docker-registry (CNCF distribution) on
 * 127.0.0.1 in three set-ups (plain HTTP; htpasswd Basic auth over TLS
 * with a CA made here by openssl; token auth with a small token server),
 * and a way to run slipway against them with a private DOCKER_CONFIG and
 * certs.d. Every process is killed by an after() hook.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { slipway, type CliResult } from '../helpers/cli.js';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const cleanups: (() => unknown)[] = [];

/** Runs cleanup later (servers stopped, directories removed) in stopAll. */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/** Stops every server and removes every directory made so far; call it from an after() hook of the describe block. */
export async function stopAll(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()?.();
}

/** Registers stopAll as an after() hook of the current describe block (call it in the describe body). */
export function cleanupAfterSuite(): void {
  after(stopAll);
}

/** A private directory removed by stopAll. */
export function suiteDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A CA and a server certificate for 127.0.0.1 signed by it. */
export interface Pki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** A self-signed certificate and key for signing tokens. */
  tokenCert: string;
  tokenKey: string;
}

/** Makes a CA, a server certificate (SAN IP 127.0.0.1, localhost) and a token-signing pair with openssl. */
export function makePki(dir: string): Pki {
  const p = (f: string): string => join(dir, f);
  const ssl = (...args: string[]): void => { execFileSync('openssl', args, { stdio: 'ignore' }); };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', '/CN=slipway test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.crt'), '-days', '2', '-extfile', p('ext.cnf'));
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('token.key'), '-out', p('token.crt'), '-days', '2', '-subj', '/CN=slipway token issuer');
  return { caCert: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key'), tokenCert: p('token.crt'), tokenKey: p('token.key') };
}

/** A running registry. */
export interface Registry {
  host: string;
  port: number;
  dir: string;
  stop(): void;
}

/** Options of startRegistry. */
export interface RegistryOptions {
  tls?: { cert: string; key: string };
  htpasswd?: string;
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

/** Starts docker-registry on a random port; stops it after the suite. */
export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const dir = suiteDir('slipway-registry-');
  const port = await freePort();
  const lines = ['version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: true', 'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`, '  delete:', '    enabled: true',
    'http:', `  addr: 127.0.0.1:${port}`, '  secret: slipway-test-secret'];
  if (options.tls) lines.push('  tls:', `    certificate: ${options.tls.cert}`, `    key: ${options.tls.key}`);
  if (options.htpasswd) lines.push('auth:', '  htpasswd:', '    realm: slipway-test', `    path: ${options.htpasswd}`);
  if (options.token) {
    const t = options.token;
    lines.push('auth:', '  token:', `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.rootCertBundle}`);
  }
  writeFileSync(join(dir, 'config.yml'), `${lines.join('\n')}\n`);
  const child = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString(); });
  const stop = (): void => { if (child.exitCode === null) child.kill('SIGKILL'); };
  onCleanup(stop);
  process.once('exit', stop);
  await waitUp(port, Boolean(options.tls), child, () => stderr);
  return { host: `127.0.0.1:${port}`, port, dir, stop };
}

async function waitUp(port: number, tls: boolean, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = (tls ? https : http).get({ host: '127.0.0.1', port, path: '/v2/', rejectUnauthorized: false, timeout: 1000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => { req.destroy(); resolve(false); });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not come up on ${port}: ${stderr()}`);
}

/** htpasswd file with bcrypt entries (Apache's htpasswd -B). */
export function htpasswdFile(dir: string, users: Record<string, string>): string {
  const file = join(dir, 'htpasswd');
  const lines = Object.entries(users).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p]).toString().trim());
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** A token server: what it was asked, and how to stop it. */
export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** Requests seen: account (or '') and scopes. */
  requests: { account: string; scopes: string[]; authorized: boolean }[];
  /** Seconds a token lives (default 300). */
  lifetime: number;
}

/**
 * A token server on 127.0.0.1 issuing RS256 JWTs with an x5c header, as
 * distribution's token auth verifies them. `users` get pull and push on
 * every repository; anonymous callers get pull only.
 */
export async function startTokenServer(pki: Pki, users: Record<string, string>): Promise<TokenServer> {
  const port = await freePort();
  const certDer = new X509Certificate(readFileSync(pki.tokenCert)).raw;
  const key = readFileSync(pki.tokenKey, 'utf8');
  const state: TokenServer = { realm: `http://127.0.0.1:${port}/token`, service: 'slipway-test-registry', issuer: 'slipway-test-issuer', requests: [], lifetime: 300 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization ?? '';
    let account = '';
    let authorized = false;
    if (auth.startsWith('Basic ')) {
      const [u, ...rest] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      account = u ?? '';
      authorized = users[account] === rest.join(':');
      if (!authorized) {
        state.requests.push({ account, scopes: url.searchParams.getAll('scope'), authorized });
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"invalid credentials"}');
        return;
      }
    }
    const scopes = url.searchParams.getAll('scope');
    state.requests.push({ account, scopes, authorized });
    const access = scopes.flatMap((s) => {
      const [type, name, actions] = s.split(':');
      if (!type || !name || !actions) return [];
      const allowed = actions.split(',').filter((a) => authorized || a === 'pull');
      return [{ type, name, actions: allowed }];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: state.issuer, sub: account, aud: state.service, exp: now + state.lifetime, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(signing).sign(key);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${signing}.${b64url(sig)}`, expires_in: state.lifetime }));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return state;
}

/** Environment and store for running slipway against test registries. */
export interface Client {
  root: string;
  env: Record<string, string>;
  run(args: string[], stdin?: string): Promise<CliResult>;
  ok(args: string[], stdin?: string): Promise<string>;
}

/** A slipway client with its own store, DOCKER_CONFIG and certs.d. */
export function makeClient(extraEnv: Record<string, string> = {}): Client {
  const dir = suiteDir('slipway-client-');
  mkdirSync(join(dir, 'docker'), { recursive: true });
  mkdirSync(join(dir, 'certs.d'), { recursive: true });
  const env = {
    DOCKER_CONFIG: join(dir, 'docker'), SLIPWAY_CERTS_D: join(dir, 'certs.d'), SLIPWAY_DAEMON_JSON: join(dir, 'daemon.json'),
    SLIPWAY_REGISTRY_TIMEOUT: '10', SLIPWAY_REGISTRY_BACKOFF_MS: '50', ...extraEnv,
  };
  const root = join(dir, 'root');
  const run = (args: string[], stdin?: string): Promise<CliResult> => slipway(args, { root, env, ...(stdin !== undefined ? { stdin } : {}) });
  return {
    root, env, run,
    async ok(args, stdin) {
      const r = await run(args, stdin);
      if (r.status !== 0) throw new Error(`slipway ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      return r.stdout;
    },
  };
}

/** Trusts a CA for a registry host in a client's certs.d. */
export function trustCa(client: Client, host: string, caCert: string): void {
  const dir = join(client.env.SLIPWAY_CERTS_D as string, host);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ca.crt'), readFileSync(caCert));
}

/**
 * How to reach a registry host: TLS settings and whether plain HTTP is
 * allowed.
 *
 * - TLS is verified by default against the system store (Node's bundled
 *   roots plus /etc/ssl/certs/ca-certificates.crt), the user's extra CAs
 *   (NODE_EXTRA_CA_CERTS, seen here as $SLIPWAY_EXTRA_CA_CERTS when the npm
 *   bin started us) and the CA certificates
 *   in `<certs.d>/<host:port>/*.crt`, as Docker reads /etc/docker/certs.d;
 *   `*.cert` + `*.key` pairs there are client certificates. The certs.d
 *   directory is $SLIPWAY_CERTS_D when set (tests, rootless users), else
 *   /etc/docker/certs.d. Node's roots are its default store (parsed once
 *   per process); only the other certificates are added to it, and one
 *   secure context serves every connection to a host (`secureContext`):
 *   a context made from the whole list costs ~50 ms of CPU each time.
 * - Before the first HTTPS request to a host that may speak plain HTTP,
 *   `probeTls` finds out with a bare handshake (nothing sent after it, no
 *   certificates loaded), so a plain-HTTP loopback registry costs no TLS
 *   set-up at all.
 * - Plain HTTP is used only for "insecure" registries: loopback hosts
 *   (localhost, 127.0.0.0/8, ::1), as Docker treats 127.0.0.0/8, and the
 *   hosts or CIDRs listed in $SLIPWAY_INSECURE_REGISTRIES (comma separated)
 *   or in the `insecure-registries` array of $SLIPWAY_DAEMON_JSON (default
 *   /etc/docker/daemon.json). HTTPS is tried first and HTTP only when the
 *   server does not speak TLS. Certificates are not checked for hosts the
 *   user listed explicitly; loopback hosts keep verification.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import type { TlsSettings } from './http.js';

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];
let systemExtra: string[] | undefined;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;
const pemBody = (pem: string): string => pem.replace(/-----[A-Z ]+-----|\s+/g, '');

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The certificates trusted besides Node's bundled roots (read once per
 * process): the system bundle's, and those of $SLIPWAY_EXTRA_CA_CERTS (the
 * user's NODE_EXTRA_CA_CERTS, which the npm bin hands on under that name so
 * that Node does not parse it at start-up), without Node's own or repeats.
 */
function loadSystemExtra(env: NodeJS.ProcessEnv = process.env): string[] {
  if (systemExtra) return systemExtra;
  const texts: string[] = [];
  const system = SYSTEM_BUNDLES.map(readText).find((t) => t !== undefined);
  if (system !== undefined) texts.push(system);
  const extraFile = env.SLIPWAY_EXTRA_CA_CERTS;
  if (extraFile) texts.push(readText(extraFile) ?? '');
  const known = new Set(texts.length > 0 ? tls.rootCertificates.map(pemBody) : []);
  systemExtra = [];
  for (const pem of texts.flatMap((t) => t.match(PEM_CERT) ?? [])) {
    const body = pemBody(pem);
    if (known.has(body)) continue;
    known.add(body);
    systemExtra.push(pem);
  }
  return systemExtra;
}

/**
 * The secure context for `settings`: Node's default roots (shared, parsed
 * once per process) plus `settings.extraCa`, and the client certificate.
 * Make it once per host and reuse it for every connection.
 */
export function secureContext(settings: TlsSettings): tls.SecureContext {
  const own = { ...(settings.cert !== undefined ? { cert: settings.cert } : {}), ...(settings.key !== undefined ? { key: settings.key } : {}) };
  const extra = settings.extraCa ?? [];
  const ctx = tls.createSecureContext(own);
  // The native context's addCACert adds to a copy of the default roots; without it, `ca` replaces them: list them all.
  const native = (ctx as { context?: { addCACert?: (pem: string) => void } }).context;
  if (extra.length === 0) return ctx;
  if (typeof native?.addCACert !== 'function') return tls.createSecureContext({ ...own, ca: [...tls.rootCertificates, ...extra] });
  for (const pem of extra) native.addCACert(pem);
  return ctx;
}

/**
 * Whether `hostPort` answers a TLS handshake: 'tls', 'plain' (the server
 * answered the ClientHello in a way only a plain-HTTP server does, or
 * hung up on it), or 'unknown' (no connection, no answer in `timeoutMs`).
 * No certificate is checked and nothing is sent after the handshake: the
 * caller then speaks to the host over a verified connection, or plain HTTP.
 */
export function probeTls(hostPort: string, timeoutMs: number): Promise<'tls' | 'plain' | 'unknown'> {
  const url = new URL(`https://${hostPort}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = tls.connect({
      host, port: Number(url.port || 443), ...(isIP(host) === 0 ? { servername: host } : {}),
      secureContext: tls.createSecureContext({ ca: [] }), rejectUnauthorized: false,
    });
    const done = (v: 'tls' | 'plain' | 'unknown'): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    socket.once('secureConnect', () => done('tls'));
    socket.once('error', (err) => done(speaksPlainHttp(err) ? 'plain' : 'unknown'));
  });
}

/** True when an HTTPS attempt failed in a way that suggests a plain-HTTP server. */
export function speaksPlainHttp(err: unknown): boolean {
  const parts: string[] = [];
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) parts.push(`${(e as { code?: string }).code ?? ''} ${(e as Error).message ?? ''}`);
  return /EPROTO|wrong version number|packet length too long|ECONNRESET|socket hang up|http request to an https server/i.test(parts.join(' '));
}

/** The certs.d directory: $SLIPWAY_CERTS_D, else /etc/docker/certs.d. */
export function certsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SLIPWAY_CERTS_D || '/etc/docker/certs.d';
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** TLS settings for `hostPort` ('registry.example.com:5000'). */
export function tlsSettings(hostPort: string, env: NodeJS.ProcessEnv = process.env): TlsSettings {
  const dir = join(certsDir(env), hostPort);
  const files = listDir(dir);
  const extra = files.filter((f) => f.endsWith('.crt')).map((f) => readFileSync(join(dir, f), 'utf8'));
  const settings: TlsSettings = { rejectUnauthorized: !isListedInsecure(hostPort, env), extraCa: [...loadSystemExtra(env), ...extra] };
  const cert = files.find((f) => f.endsWith('.cert'));
  if (cert !== undefined) {
    const key = `${cert.slice(0, -5)}.key`;
    settings.cert = readFileSync(join(dir, cert), 'utf8');
    settings.key = readFileSync(join(dir, key), 'utf8');
  }
  return settings;
}

function hostOnly(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const i = hostPort.lastIndexOf(':');
  return i >= 0 && hostPort.indexOf(':') === i ? hostPort.slice(0, i) : hostPort;
}

/** True for localhost, 127.0.0.0/8 and ::1. */
export function isLoopback(hostPort: string): boolean {
  const h = hostOnly(hostPort).toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

function insecureList(env: NodeJS.ProcessEnv): string[] {
  const list = (env.SLIPWAY_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  try {
    const daemon = JSON.parse(readFileSync(env.SLIPWAY_DAEMON_JSON || '/etc/docker/daemon.json', 'utf8')) as { 'insecure-registries'?: unknown };
    const more = daemon['insecure-registries'];
    if (Array.isArray(more)) list.push(...more.filter((x): x is string => typeof x === 'string'));
  } catch {
    // no daemon.json
  }
  return list.map((s) => s.replace(/^https?:\/\//, '').replace(/\/+$/, ''));
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (base === undefined || isIP(base) !== 4 || isIP(ip) !== 4 || !(bits >= 0 && bits <= 32)) return false;
  const n = (s: string): number => s.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((n(ip) & mask) >>> 0) === ((n(base) & mask) >>> 0);
}

/** True when the user listed the host (with or without port, or a CIDR holding it) as insecure. */
export function isListedInsecure(hostPort: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const host = hostOnly(hostPort);
  return insecureList(env).some((e) => e === hostPort || e === host || (e.includes('/') && inCidr(host, e)));
}

/** True when plain HTTP may be used for the host (loopback or listed). */
export function allowsPlainHttp(hostPort: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return isLoopback(hostPort) || isListedInsecure(hostPort, env);
}

/**
 * Resuming interrupted layer downloads against a real CNCF distribution
 * registry on 127.0.0.1, through a loopback proxy that counts the blob
 * bytes it forwards and can stall or cut a blob midway: a pull killed
 * (SIGKILL) midway, or cut on every try, run again fetches only the rest
 * (one Range request) and gives the same image; partial files are never
 * blobs, are cleaned by prune once old, and concurrent pulls of the same
 * layers still succeed.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cliCommand } from '../helpers/cli.js';
import { cleanupAfterSuite, freePort, makeClient, onCleanup, startRegistry, suiteDir, type Client } from './servers.js';

/** What the proxy does to GETs of one blob. */
interface BlobFault {
  digest: string;
  /** Forward this many bytes of each response, then stop sending (stall) or close the connection (cut). */
  bytes: number;
  kind: 'stall' | 'cut';
}

interface Proxy {
  host: string;
  fault: BlobFault | undefined;
  /** Blob body bytes forwarded, by digest. */
  forwarded: Map<string, number>;
  /** Range headers of blob GETs and the statuses answered, by digest. */
  gets: Map<string, { range: string | undefined; status: number }[]>;
}

async function startProxy(target: number): Promise<Proxy> {
  const state: Proxy = { host: '', fault: undefined, forwarded: new Map(), gets: new Map() };
  const server = http.createServer((req, res) => {
    const digest = req.method === 'GET' ? /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '')?.[1] : undefined;
    const up = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (digest !== undefined) state.gets.set(digest, [...(state.gets.get(digest) ?? []), { range: req.headers.range, status: ur.statusCode ?? 0 }]);
      const fault = digest !== undefined && state.fault?.digest === digest ? state.fault : undefined;
      let sent = 0;
      ur.on('data', (c: Buffer) => {
        if (fault && sent >= fault.bytes) return;
        const part = fault ? c.subarray(0, fault.bytes - sent) : c;
        sent += part.length;
        if (digest !== undefined) state.forwarded.set(digest, (state.forwarded.get(digest) ?? 0) + part.length);
        if (fault && sent >= fault.bytes) {
          if (fault.kind === 'cut') res.write(part, () => res.socket?.destroy());
          else res.write(part);
          return;
        }
        res.write(part);
      });
      ur.on('end', () => { if (!fault || sent < fault.bytes) res.end(); });
      res.on('close', () => ur.destroy());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  state.host = `127.0.0.1:${port}`;
  return state;
}

function partials(root: string): string[] {
  const dir = join(root, 'ingest');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.partial')) : [];
}

function partialBytes(root: string): number {
  return partials(root).reduce((n, f) => n + statSync(join(root, 'ingest', f)).size, 0);
}

/** The layer blob of a one-layer image in the registry: digest and size. */
async function layerOf(host: string, repo: string): Promise<{ digest: string; size: number }> {
  const manifest = await new Promise<string>((resolve, reject) => {
    http.get(`http://${host}/v2/${repo}/manifests/1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } }, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => { s += c.toString(); });
      res.on('end', () => resolve(s));
    }).on('error', reject);
  });
  const layer = (JSON.parse(manifest) as { layers: { digest: string; size: number }[] }).layers[0];
  assert.ok(layer);
  return layer;
}

describe('resuming interrupted pulls (docker-registry on 127.0.0.1, through a counting proxy)', () => {
  cleanupAfterSuite();
  let proxy: Proxy;
  let imageId: string;
  before(async () => {
    const reg = await startRegistry();
    proxy = await startProxy(reg.port);
    const dir = suiteDir('slipway-resume-');
    mkdirSync(join(dir, 'rootfs', 'data'), { recursive: true });
    writeFileSync(join(dir, 'rootfs', 'data', 'random.bin'), randomBytes(9 << 20));
    execFileSync('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'layer.tar'), 'data']);
    const pusher = makeClient();
    await pusher.ok(['import', join(dir, 'layer.tar'), 'resume/app:1']);
    imageId = (await pusher.ok(['inspect', '-f', '{{.Id}}', 'resume/app:1'])).trim();
    for (const [repo, flags] of [['raw', ['--compression', 'uncompressed']], ['gz', []]] as const) {
      await pusher.ok(['tag', 'resume/app:1', `${reg.host}/resume/${repo}:1`]);
      await pusher.ok(['push', '-q', ...flags, `${reg.host}/resume/${repo}:1`]);
    }
  });

  async function pullAgain(c: Client, repo: string, layer: { digest: string; size: number }, kept: number): Promise<void> {
    proxy.fault = undefined;
    proxy.forwarded.delete(layer.digest);
    proxy.gets.delete(layer.digest);
    const r = await c.run(['pull', `${proxy.host}/resume/${repo}:1`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(proxy.forwarded.get(layer.digest), layer.size - kept, 'only the missing bytes were sent');
    assert.deepEqual(proxy.gets.get(layer.digest), [{ range: `bytes=${kept}-`, status: 206 }]);
    assert.equal((await c.ok(['inspect', '-f', '{{.Id}}', `${proxy.host}/resume/${repo}:1`])).trim(), imageId);
    assert.deepEqual(partials(c.root), []);
  }

  test('an uncompressed layer: a pull killed midway, run again, fetches only the rest', async () => {
    const layer = await layerOf(proxy.host, 'resume/raw');
    proxy.fault = { digest: layer.digest, bytes: (3 << 20) + 1234, kind: 'stall' };
    const c = makeClient();
    const child = spawn(...cliCommand(['--root', c.root, 'pull', `${proxy.host}/resume/raw:1`]), { env: { ...process.env, ...c.env }, stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && partialBytes(c.root) < 3 << 20) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    const kept = partialBytes(c.root);
    assert.ok(kept >= 3 << 20 && kept < layer.size, `partial file holds ${kept} bytes`);
    assert.equal((await c.ok(['images', '-aq'])).trim(), '', 'no image from the killed pull');
    assert.equal(existsSync(join(c.root, 'blobs', 'sha256', layer.digest.slice(7))), false, 'the partial layer is not a blob');
    await pullAgain(c, 'raw', layer, kept);
  });

  test('a gzip layer cut on every try: the failed pull keeps what arrived; run again it fetches only the rest', async () => {
    const layer = await layerOf(proxy.host, 'resume/gz');
    proxy.fault = { digest: layer.digest, bytes: (2 << 20) + 777, kind: 'cut' };
    proxy.forwarded.delete(layer.digest);
    proxy.gets.delete(layer.digest);
    const c = makeClient();
    const r = await c.run(['pull', `${proxy.host}/resume/gz:1`]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /download failed/);
    const gets = proxy.gets.get(layer.digest) ?? [];
    assert.ok(gets.length >= 2, 'retried');
    assert.deepEqual(gets.slice(1).map((g) => g.status), gets.slice(1).map(() => 206), 'each retry resumed with a Range request');
    const kept = partialBytes(c.root);
    // What reached the socket but not the reader when the connection dropped (at most the unread tail of each try) may be missing.
    assert.ok(kept >= 2 << 20 && kept <= (proxy.forwarded.get(layer.digest) ?? 0), `the partial file holds ${kept} of the bytes that arrived`);
    await pullAgain(c, 'gz', layer, kept);
  });

  test('partial files nobody writes are removed by prune once a day old; concurrent pulls of the same layers succeed', async () => {
    const c = makeClient();
    mkdirSync(join(c.root, 'ingest'), { recursive: true });
    const old = join(c.root, 'ingest', `${'a'.repeat(64)}.partial`);
    const young = join(c.root, 'ingest', `${'b'.repeat(64)}.partial`);
    writeFileSync(old, 'old bytes');
    writeFileSync(young, 'young bytes');
    const dayAgo = new Date(Date.now() - 25 * 3600 * 1000);
    utimesSync(old, dayAgo, dayAgo);
    await c.ok(['image', 'prune', '-f']);
    assert.deepEqual(partials(c.root), [`${'b'.repeat(64)}.partial`]);
    const pulls = await Promise.all(['raw', 'gz', 'raw'].map((repo) => c.run(['pull', '-q', `${proxy.host}/resume/${repo}:1`])));
    for (const p of pulls) assert.equal(p.status, 0, p.stderr);
    assert.equal((await c.ok(['inspect', '-f', '{{.Id}}', `${proxy.host}/resume/raw:1`])).trim(), imageId);
    assert.deepEqual(partials(c.root), [`${'b'.repeat(64)}.partial`]);
  });
});

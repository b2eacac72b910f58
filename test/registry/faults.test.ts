/**
 * Faults, against a fake registry: wrong digests, truncated blobs,
 * oversized manifests, 401/404, 429 with Retry-After and 500 before
 * success, a hanging registry (bounded by the timeout), a redirect to a
 * blob store on another host (which must get no Authorization), and a pull
 * killed midway that leaves the store as it was and resumes without
 * fetching again what had arrived.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cliCommand } from '../helpers/cli.js';
import http from 'node:http';
import { cleanupAfterSuite, freePort, makeClient, onCleanup, suiteDir, type Client } from './servers.js';
import { corruptBlobs, makeImage, startFakeRegistry, type FakeImage, type FakeRegistry } from './fake-registry.js';

function blobNames(root: string): string[] {
  const dir = join(root, 'blobs', 'sha256');
  return existsSync(dir) ? readdirSync(dir) : [];
}

function ingestFiles(root: string): string[] {
  const dir = join(root, 'ingest');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/**
 * Asserts that a failed pull left no image, no half-written file and no
 * corrupt blob; only an interrupted download may leave its partial file
 * (ingest/<hex>.partial, never a blob) for a later resume.
 */
async function assertNothingHalfStored(c: Client, partials: 'none' | 'allowed' = 'none'): Promise<void> {
  assert.equal((await c.ok(['images', '-aq'])).trim(), '');
  assert.deepEqual(ingestFiles(c.root).filter((n) => partials === 'none' || !/^[a-f0-9]{64}\.partial$/.test(n)), []);
  assert.deepEqual(corruptBlobs(c.root, blobNames(c.root)), []);
}

describe('registry faults (fake registry)', () => {
  cleanupAfterSuite();
  let image: FakeImage;
  let reg: FakeRegistry;
  let name: string;
  before(async () => {
    image = makeImage(suiteDir('slipway-fake-'));
    reg = await startFakeRegistry(image);
    name = `${reg.host}/fake/app:latest`;
  });

  const cases: { title: string; faults: () => FakeRegistry['faults']; message: RegExp; partials?: 'allowed' }[] = [
    { title: 'a layer with the wrong digest', faults: () => ({ replaceBlob: { digest: image.layers[1]?.digest ?? '', bytes: Buffer.alloc(image.layers[1]?.bytes.length ?? 0, 1) } }), message: /layer sha256:\w+: (the registry sent content with digest sha256:\w+, expected sha256:\w+|.*invalid header checksum)/ },
    { title: 'a config with the wrong digest', faults: () => ({ replaceBlob: { digest: image.configDigest, bytes: Buffer.from('{"x":1}') } }), message: /image config sha256:\w+: (truncated|the registry sent content)/ },
    { title: 'a truncated layer', faults: () => ({ truncateBlob: { digest: image.layers[1]?.digest ?? '', bytes: 1000 } }), message: /layer sha256:\w+: (truncated|download failed|.*aborted)/, partials: 'allowed' },
    { title: 'a manifest over 4 MiB', faults: () => ({ hugeManifest: 5 << 20 }), message: /manifest for .* is \d+ bytes, over the 4194304-byte limit/ },
    { title: 'a registry that wants credentials', faults: () => ({ basicAuth: 'u:p' }), message: /unauthorized \(401\): unauthorized: authentication required/ },
    { title: 'a missing blob', faults: () => ({ replaceBlob: { digest: 'none', bytes: Buffer.alloc(0) }, failFirst: { match: /blobs/, statuses: [404, 404, 404, 404, 404, 404] } }), message: /blob sha256:\w+ of .*: not found/ },
    { title: '500 on every try', faults: () => ({ failFirst: { match: /manifests/, statuses: [500, 500, 500, 500, 500] } }), message: /the registry answered 500/ },
  ];
  for (const c of cases) {
    test(`${c.title}: clear message, exit 1, nothing half-stored`, async () => {
      reg.faults = c.faults();
      const client = makeClient({ SLIPWAY_REGISTRY_RETRIES: '2' });
      const r = await client.run(['pull', name]);
      reg.faults = {};
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, c.message);
      await assertNothingHalfStored(client, c.partials);
    });
  }

  test('429 with Retry-After and 500 then success: retried, the pull succeeds', async () => {
    reg.faults = { failFirst: { match: /manifests|blobs/, statuses: [429, 500], retryAfter: '1' } };
    const c = makeClient();
    const t0 = Date.now();
    const r = await c.run(['pull', name]);
    reg.faults = {};
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Date.now() - t0 >= 1000, 'Retry-After honoured');
    assert.equal((await c.ok(['inspect', '-f', '{{.Id}}', name])).trim(), image.configDigest);
  });

  test('blobs sent chunked (no Content-Length), directly and through a redirect: pulled through the HTTP client', async () => {
    for (const faults of [{ chunkedBlobs: true }, { chunkedBlobs: true, redirectBlobs: true }]) {
      reg.faults = faults;
      const c = makeClient();
      const r = await c.run(['pull', name]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal((await c.ok(['inspect', '-f', '{{.Id}}', name])).trim(), image.configDigest);
      assert.deepEqual(corruptBlobs(c.root, blobNames(c.root)), []);
    }
    reg.faults = {};
  });

  test('a blob download that stalls fails within the timeout and keeps what arrived', async () => {
    reg.faults = { stallBlob: { digest: image.layers[1]?.digest ?? '', bytes: 1000 } };
    const c = makeClient({ SLIPWAY_REGISTRY_TIMEOUT: '1' });
    const t0 = Date.now();
    const r = await c.run(['pull', name]);
    reg.faults = {};
    assert.equal(r.status, 1);
    assert.match(r.stderr, /layer sha256:\w+: download failed: no data for 1 s/);
    assert.ok(Date.now() - t0 < 15000, `took ${Date.now() - t0} ms`);
    await assertNothingHalfStored(c, 'allowed');
  });

  test('a hanging registry fails within the timeout', async () => {
    reg.faults = { hang: /manifests/ };
    const c = makeClient({ SLIPWAY_REGISTRY_TIMEOUT: '1' });
    const t0 = Date.now();
    const r = await c.run(['pull', name]);
    reg.faults = {};
    assert.equal(r.status, 1);
    assert.match(r.stderr, /GET http:\/\/127\.0\.0\.1:\d+\/v2\/fake\/app\/manifests\/latest: no response within 1s/);
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
    await assertNothingHalfStored(c);
  });

  test('a redirect to a blob store on another host carries no Authorization header', async () => {
    reg.faults = { basicAuth: 'user:pa55word', redirectBlobs: true };
    reg.blobStoreAuth.length = 0;
    const c = makeClient();
    const login = await c.run(['login', '-u', 'user', '--password-stdin', reg.host], 'pa55word');
    assert.equal(login.status, 0, login.stderr);
    const hits = reg.blobStoreHits;
    const r = await c.run(['pull', name]);
    reg.faults = {};
    assert.equal(r.status, 0, r.stderr);
    assert.ok(reg.blobStoreHits > hits, 'blobs came from the blob store');
    assert.deepEqual(reg.blobStoreAuth, []);
    assert.doesNotMatch(r.stdout + r.stderr, /pa55word/);
  });

  test('a pull killed midway leaves no image; run again it finishes without fetching the finished layer again', async () => {
    const big = image.layers[1]?.digest ?? '';
    const small = image.layers[0]?.digest ?? '';
    reg.faults = { stallBlob: { digest: big, bytes: 100_000 } };
    const served = reg.served.get(small) ?? 0;
    const c = makeClient();
    const child = spawn(...cliCommand(['--root', c.root, 'pull', name]), { env: { ...process.env, ...c.env }, stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !((reg.started.get(big) ?? 0) > 0 && (reg.served.get(small) ?? 0) > served && blobNames(c.root).length > 0)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    assert.equal((await c.ok(['images', '-aq'])).trim(), '');
    assert.deepEqual(corruptBlobs(c.root, blobNames(c.root)), []);
    reg.faults = {};
    const startedBefore = reg.started.get(small) ?? 0;
    const r = await c.run(['pull', name]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(reg.started.get(small) ?? 0, startedBefore, 'the finished layer was not fetched again');
    assert.match(r.stdout, new RegExp(`${small.slice(7, 19)}: Already exists`));
    assert.equal((await c.ok(['inspect', '-f', '{{.Id}}', name])).trim(), image.configDigest);
  });
});

describe('search against a Docker Hub-style /v1/search (SLIPWAY_INDEX_SERVER)', () => {
  cleanupAfterSuite();
  let base: string;
  const queries: string[] = [];
  before(async () => {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      queries.push(url.search);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        num_results: 3, query: url.searchParams.get('q'), results: [
          { name: 'someone/busybox', description: 'A busybox\nbuilt by someone, with a long description that goes on', star_count: 3, is_official: false, is_automated: true },
          { name: 'busybox', description: 'Busybox base image.', star_count: 3000, is_official: true, is_automated: false },
          { name: 'other/busybox', description: '', star_count: 0, is_official: false, is_automated: false },
        ],
      }));
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    onCleanup(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
    base = `http://127.0.0.1:${port}`;
  });

  test('table sorted by stars, descriptions truncated to 45, filters and --no-trunc', async () => {
    const c = makeClient({ SLIPWAY_INDEX_SERVER: base });
    assert.equal(await c.ok(['search', 'busybox']), [
      'NAME              DESCRIPTION                                     STARS     OFFICIAL   AUTOMATED',
      'busybox           Busybox base image.                             3000      [OK]       ',
      'someone/busybox   A busybox built by someone, with a long desc…   3                    [OK]',
      'other/busybox                                                     0                    ',
      ''].join('\n'));
    assert.equal(queries.at(-1), '?q=busybox&n=25');
    assert.equal(await c.ok(['search', '--filter', 'is-official=true', '--format', '{{.Name}}: {{.StarCount}}', 'busybox']), 'busybox: 3000\n');
    assert.equal(await c.ok(['search', '-f', 'stars=3', '-f', 'is-automated=true', '--no-trunc', '--format', '{{.Description}}', 'busybox']),
      'A busybox built by someone, with a long description that goes on\n');
    await c.ok(['search', '--limit', '2', 'busybox']);
    assert.equal(queries.at(-1), '?q=busybox&n=2');
  });
});

/** Registry building blocks without a server: challenges, config.json, insecure hosts, search terms, index selection, ring filling, partial download files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseChallenges } from '../../src/registry/auth.js';
import { authKey, eraseCredentials, getCredentials, storeCredentials } from '../../src/registry/credentials.js';
import { allowsPlainHttp, isListedInsecure, isLoopback } from '../../src/registry/tls.js';
import { splitSearchTerm } from '../../src/registry/search.js';
import { selectManifest } from '../../src/registry/pull.js';
import { RingFill } from '../../src/registry/ring-fill.js';
import { SlotRing } from '../../src/archive/slot-ring.js';
import { cleanPartials, openPartial, parsePartialName, releasePartial } from '../../src/store/partial.js';
import { parseReference, registryHost } from '../../src/oci/reference.js';
import type { Digest } from '../../src/oci/digest.js';

test('WWW-Authenticate challenges are parsed as distribution sends them', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="a \\"quoted\\" realm"'), [{ scheme: 'basic', params: { realm: 'a "quoted" realm' } }]);
  assert.deepEqual(parseChallenges(['Basic realm=x', 'Bearer realm="r", service=s']), [
    { scheme: 'basic', params: { realm: 'x' } }, { scheme: 'bearer', params: { realm: 'r', service: 's' } },
  ]);
  assert.deepEqual(parseChallenges(undefined), []);
});

test('references map to the registry host that serves them', () => {
  for (const [name, host, path] of [
    ['nginx', 'registry-1.docker.io', 'library/nginx'], ['user/app', 'registry-1.docker.io', 'user/app'],
    ['localhost:5000/app', 'localhost:5000', 'app'], ['host.example/ns/app:tag', 'host.example', 'ns/app'],
  ] as const) {
    const ref = parseReference(name);
    assert.equal(registryHost(ref), host, name);
    assert.equal(ref.path, path, name);
  }
});

test('config.json: credentials written as docker writes them (0600), read back, erased; Docker Hub keys', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cfg-'));
  const env = { DOCKER_CONFIG: dir };
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ psFormat: 'table {{.ID}}', auths: { 'other.example': { auth: Buffer.from('o:p').toString('base64') } } }));
  const stored = await storeCredentials('127.0.0.1:5000', { username: 'u', password: 'p:with:colons' }, env);
  assert.equal(stored.helper, undefined);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(cfg.psFormat, 'table {{.ID}}');
  assert.equal(statSync(join(dir, 'config.json')).mode & 0o777, 0o600);
  assert.deepEqual(await getCredentials('127.0.0.1:5000', env), { username: 'u', password: 'p:with:colons' });
  assert.deepEqual(await getCredentials('other.example', env), { username: 'o', password: 'p' });
  assert.equal(await getCredentials('nowhere.example', env), undefined);
  assert.equal(await eraseCredentials('127.0.0.1:5000', env), true);
  assert.equal(await eraseCredentials('127.0.0.1:5000', env), false);
  assert.equal(await getCredentials('127.0.0.1:5000', env), undefined);
  for (const h of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/']) assert.equal(authKey(h), 'https://index.docker.io/v1/');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') } } }));
  assert.deepEqual(await getCredentials('registry-1.docker.io', env), { username: 'hub', password: 'pw' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'id.example': { auth: Buffer.from(':').toString('base64'), identitytoken: 'refresh-me' } } }));
  assert.deepEqual(await getCredentials('id.example', env), { username: '', password: '', identityToken: 'refresh-me' });
});

test('plain HTTP only for loopback hosts and hosts listed as insecure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-daemon-'));
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ 'insecure-registries': ['daemon.example:5000', '10.1.0.0/16'] }));
  const env = { SLIPWAY_INSECURE_REGISTRIES: 'env.example, 192.168.7.7:443', SLIPWAY_DAEMON_JSON: join(dir, 'daemon.json') };
  for (const h of ['localhost:5000', '127.0.0.1:5000', '127.8.9.10', '[::1]:5000']) assert.ok(isLoopback(h), h);
  for (const h of ['registry-1.docker.io', '10.0.0.1:5000', 'localhostx:5000']) assert.ok(!allowsPlainHttp(h, env), h);
  for (const h of ['env.example:5000', '192.168.7.7:443', 'daemon.example:5000', '10.1.2.3:5000']) assert.ok(isListedInsecure(h, env), h);
  assert.ok(!isListedInsecure('192.168.7.7:444', env));
});

test('search terms: a leading host names the registry, else Docker Hub', () => {
  assert.deepEqual(splitSearchTerm('busybox'), { host: undefined, query: 'busybox' });
  assert.deepEqual(splitSearchTerm('user/app'), { host: undefined, query: 'user/app' });
  assert.deepEqual(splitSearchTerm('docker.io/busybox'), { host: undefined, query: 'busybox' });
  assert.deepEqual(splitSearchTerm('127.0.0.1:5000/app'), { host: '127.0.0.1:5000', query: 'app' });
  assert.deepEqual(splitSearchTerm('localhost/app'), { host: 'localhost', query: 'app' });
});

test('an index entry is chosen by platform (normalised), attestations ignored', () => {
  const d = (arch: string, variant?: string, os = 'linux') => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${arch.padEnd(64, '0')}` as Digest, size: 1,
    platform: { os, architecture: arch, ...(variant ? { variant } : {}) },
  });
  const index = { schemaVersion: 2 as const, manifests: [d('unknown', undefined, 'unknown'), d('amd64'), d('arm', 'v7'), d('arm64', 'v8')] };
  assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm64' }).platform?.architecture, 'arm64');
  assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm', variant: 'v7' }).platform?.variant, 'v7');
  assert.throws(() => selectManifest(index, { os: 'linux', architecture: 's390x' }), /no matching manifest for linux\/s390x/);
});

test('RingFill hands on full slots in order, the last one short, and reads a file straight into slots', async () => {
  const ring = new SlotRing(8, 3);
  const seen: string[] = [];
  const fill = new RingFill(ring, async (c) => {
    seen.push(c.toString());
    await new Promise((r) => setTimeout(r, 1));
  });
  const dir = mkdtempSync(join(tmpdir(), 'slipway-ringfill-'));
  writeFileSync(join(dir, 'f'), 'abcdefghijk');
  const fh = await open(join(dir, 'f'), 'r');
  await fill.readFile(fh, 11);
  await fh.close();
  for (const part of ['lmn', 'opqrstuvwxyz0123456789']) await fill.add(Buffer.from(part));
  await fill.finish();
  assert.deepEqual(seen, ['abcdefgh', 'ijklmnop', 'qrstuvwx', 'yz012345', '6789']);
  assert.equal(fill.offset, 36);
  const failing = new RingFill(ring, () => { throw new Error('handler failed'); });
  await assert.rejects(async () => {
    for (let i = 0; i < 10; i++) await failing.add(Buffer.alloc(8));
    await failing.finish();
  }, /handler failed/);
  await failing.close();
  const free = await Promise.all([ring.acquire(), ring.acquire(), ring.acquire()]);
  assert.equal(free.length, 3, 'every slot was given back');
});

test('SlotRing pools: a pool fills only from its own slots, and a released slot returns to its pool, not to the ring', async () => {
  const ring = new SlotRing(4, 5);
  const a = ring.pool(2);
  const b = ring.pool(2);
  assert.throws(() => ring.pool(2), /a pool of 2 slots: 1 free/);
  const [a1, a2] = [a.tryAcquire(), a.tryAcquire()];
  assert.equal(a.tryAcquire(), -1, 'pool a is used up');
  const b1 = b.tryAcquire();
  assert.ok(b1 >= 0 && b1 !== a1 && b1 !== a2, 'pool b still has its own slots');
  const own = ring.tryAcquire();
  assert.equal(ring.tryAcquire(), -1, 'the ring has one slot of its own');
  // A hold taken through the ring (a hashing thread's) keeps a pool slot until it is dropped.
  ring.hold(a1);
  a.release(a1);
  assert.equal(a.tryAcquire(), -1);
  let woke = false;
  const waiting = a.acquire().then((i) => { woke = true; return i; });
  ring.release(b1);
  await new Promise((r) => setImmediate(r));
  assert.equal(woke, false, "b's slot went back to b, not to a waiter of a");
  ring.release(a1);
  assert.equal(await waiting, a1);
  assert.equal(b.tryAcquire(), b1);
  ring.release(own);
  assert.equal(ring.tryAcquire(), own);
});

test('partial downloads: named by digest, adopted by one process, released, cleaned by age', async () => {
  const root = mkdtempSync(join(tmpdir(), 'slipway-partial-'));
  const digest = `sha256:${'ab'.repeat(32)}` as Digest;
  const a = await openPartial(root, digest);
  assert.equal(a.resumed, 0);
  assert.deepEqual(parsePartialName(basename(a.path)), { hex: 'ab'.repeat(32), pid: process.pid });
  await a.fh.write(Buffer.from('12345'));
  const b = await openPartial(root, digest);
  assert.equal(b.resumed, 0, 'a partial file written by a live process is not shared');
  await releasePartial(b, true);
  await releasePartial(a, true);
  const released = join(root, 'ingest', `${'ab'.repeat(32)}.partial`);
  assert.equal(statSync(released).size, 5);
  const c = await openPartial(root, digest);
  assert.equal(c.resumed, 5, 'a released partial file is adopted');
  assert.equal(existsSync(released), false);
  await releasePartial(c, false);
  assert.deepEqual(readdirSync(join(root, 'ingest')), []);
  writeFileSync(released, 'old');
  const dead = join(root, 'ingest', `${'cd'.repeat(32)}.999999999-1-x.partial`);
  writeFileSync(dead, 'orphan');
  await cleanPartials(root, 60_000);
  assert.equal(readdirSync(join(root, 'ingest')).length, 2, 'young partial files are kept');
  await cleanPartials(root, 60_000, Date.now() + 120_000);
  assert.deepEqual(readdirSync(join(root, 'ingest')), []);
});

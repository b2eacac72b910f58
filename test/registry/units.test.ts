/** Registry building blocks without a server: challenges, config.json, insecure hosts, search terms, index selection, verification. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { parseChallenges } from '../../src/registry/auth.js';
import { authKey, eraseCredentials, getCredentials, storeCredentials } from '../../src/registry/credentials.js';
import { allowsPlainHttp, isListedInsecure, isLoopback } from '../../src/registry/tls.js';
import { splitSearchTerm } from '../../src/registry/search.js';
import { selectManifest } from '../../src/registry/pull.js';
import { VerifyStream } from '../../src/registry/util.js';
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

test('VerifyStream passes exact content and refuses wrong, short or long content', async () => {
  const data = Buffer.from('hello registry');
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
  const drain = async (input: Buffer, expected: { digest: Digest; size: number }) => {
    const v = new VerifyStream(expected, 'blob');
    Readable.from([input]).pipe(v);
    const out: Buffer[] = [];
    for await (const c of v) out.push(c as Buffer);
    return Buffer.concat(out);
  };
  assert.deepEqual(await drain(data, { digest, size: data.length }), data);
  await assert.rejects(drain(Buffer.from('hello REGISTRY'), { digest, size: data.length }), /blob: the registry sent content with digest/);
  await assert.rejects(drain(data.subarray(0, 5), { digest, size: data.length }), /blob: truncated: 5 of 14 bytes/);
  await assert.rejects(drain(Buffer.concat([data, data]), { digest, size: data.length }), /more than the expected 14 bytes/);
});

/**
 * Round trips through a real CNCF distribution registry over plain HTTP on
 * 127.0.0.1: push, remove locally, pull, same IDs and digests; Docker
 * schema 2, OCI, zstd and uncompressed layers, chunked uploads; a
 * two-platform index; skopeo reading what slipway pushed and slipway
 * pulling what skopeo pushed; `pull -a`, `search` through the catalog.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { fixture } from '../helpers/cli.js';
import { cleanupAfterSuite, makeClient, startRegistry, suiteDir, type Client, type Registry } from './servers.js';

const BUSYBOX_ID = 'sha256:abd4ffa074a517437584464a0062533856e2076ec20a5d2e50953a0971d5e6d6';

function skopeo(args: string[]): string {
  return execFileSync('skopeo', args, { encoding: 'utf8', timeout: 30_000 });
}

function request(method: string, url: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json';

async function rawManifest(reg: Registry, repo: string, ref: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
  const r = await request('GET', `http://${reg.host}/v2/${repo}/manifests/${ref}`, undefined, { accept: ACCEPT });
  assert.equal(r.status, 200, `GET manifest ${repo}:${ref}`);
  return { bytes: r.body, mediaType: String(r.headers['content-type']), digest: `sha256:${createHash('sha256').update(r.body).digest('hex')}` };
}

async function inspect(c: Client, name: string, format: string): Promise<string> {
  return (await c.ok(['inspect', '-f', format, name])).trim();
}

/** A one-file rootfs tar imported as an image for a platform. */
async function importImage(c: Client, dir: string, name: string, platform: string, content: string): Promise<string> {
  const src = join(dir, `src-${platform.replace(/\//g, '-')}`);
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'hello.txt'), content);
  const tar = `${src}.tar`;
  execFileSync('tar', ['-C', src, '-cf', tar, 'hello.txt']);
  await c.ok(['import', '--platform', platform, tar, name]);
  return inspect(c, name, '{{.Id}}');
}

describe('registry round trips (docker-registry over HTTP)', () => {
  cleanupAfterSuite();
  let reg: Registry;
  let a: Client;
  before(async () => {
    reg = await startRegistry();
    a = makeClient();
    await a.ok(['load', '-i', fixture('docker-save-busybox.tar')]);
  });

  test('Docker schema 2: push, rmi, pull gives the same ID and digest; Docker-like output; skopeo reads it', async () => {
    const name = `${reg.host}/rt/busybox:1`;
    await a.ok(['tag', 'slipway-test/busybox', name]);
    const push = await a.ok(['push', name]);
    const m = /^1: digest: (sha256:[a-f0-9]{64}) size: (\d+)$/m.exec(push);
    assert.ok(m, push);
    assert.match(push, new RegExp(`^The push refers to repository \\[${reg.host}/rt/busybox\\]\nc8b222702608: Preparing\nc8b222702608: Pushed\n1: digest`, 'm'));
    const digest = m[1] as string;
    const raw = await rawManifest(reg, 'rt/busybox', '1');
    assert.equal(raw.digest, digest);
    assert.equal(raw.bytes.length, Number(m[2]));
    assert.equal(JSON.parse(raw.bytes.toString()).mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.deepEqual(JSON.parse(await inspect(a, name, '{{json .RepoDigests}}')), [`${reg.host}/rt/busybox@${digest}`]);

    const info = JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${name}`])) as { Digest: string; Layers: string[]; Architecture: string };
    assert.equal(info.Digest, digest);
    assert.equal(info.Layers.length, 1);
    const config = JSON.parse(skopeo(['inspect', '--config', '--tls-verify=false', `docker://${name}`])) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(config.rootfs.diff_ids, ['sha256:c8b2227026083caac9c96bfcb4616b76376ea7afd64d08dc71a71bbaf096601f']);

    const b = makeClient();
    const pull = await b.ok(['pull', name]);
    assert.equal(pull, [`1: Pulling from rt/busybox`, `${info.Layers[0]?.slice(7, 19)}: Pulling fs layer`, `${info.Layers[0]?.slice(7, 19)}: Verifying Checksum`,
      `${info.Layers[0]?.slice(7, 19)}: Download complete`, `${info.Layers[0]?.slice(7, 19)}: Pull complete`, `Digest: ${digest}`,
      `Status: Downloaded newer image for ${name}`, name, ''].join('\n'));
    assert.equal(await inspect(b, name, '{{.Id}}'), BUSYBOX_ID);
    assert.deepEqual(JSON.parse(await inspect(b, name, '{{json .RepoDigests}}')), [`${reg.host}/rt/busybox@${digest}`]);
    const again = await b.ok(['pull', name]);
    assert.match(again, /: Already exists\n/);
    assert.match(again, new RegExp(`Status: Image is up to date for ${name}\n`));
    // By digest: no tag, a RepoDigest.
    const c = makeClient();
    await c.ok(['pull', '-q', `${reg.host}/rt/busybox@${digest}`]);
    assert.equal(await inspect(c, `${reg.host}/rt/busybox@${digest}`, '{{.Id}}'), BUSYBOX_ID);
    assert.equal(await inspect(c, `${reg.host}/rt/busybox@${digest}`, '{{json .RepoTags}}'), '[]');
  });

  test('the same local image pushed from two stores gives the same digests; a second push sends nothing', async () => {
    const b = makeClient();
    await b.ok(['load', '-i', fixture('docker-save-busybox.tar')]);
    await a.ok(['tag', 'slipway-test/busybox', `${reg.host}/det/one:1`]);
    await b.ok(['tag', 'slipway-test/busybox', `${reg.host}/det/two:1`]);
    const one = await a.ok(['push', `${reg.host}/det/one:1`]);
    const two = await b.ok(['push', `${reg.host}/det/two:1`]);
    const digestOf = (s: string): string | undefined => /digest: (sha256:\w+)/.exec(s)?.[1];
    assert.equal(digestOf(one), digestOf(two));
    const again = await a.ok(['push', `${reg.host}/det/one:1`]);
    assert.match(again, /c8b222702608: Layer already exists\n/);
    // A known layer is mounted into a new repository instead of uploaded.
    await a.ok(['tag', 'slipway-test/busybox', `${reg.host}/det/three:1`]);
    assert.match(await a.ok(['push', `${reg.host}/det/three:1`]), /c8b222702608: Mounted from det\/(one|two)\n/);
  });

  const formats: { name: string; flags: string[]; manifestType: string; layerType: RegExp }[] = [
    { name: 'OCI gzip', flags: ['--oci'], manifestType: 'application/vnd.oci.image.manifest.v1+json', layerType: /tar\+gzip$/ },
    { name: 'OCI zstd', flags: ['--compression', 'zstd'], manifestType: 'application/vnd.oci.image.manifest.v1+json', layerType: /tar\+zstd$/ },
    { name: 'uncompressed, chunked upload', flags: ['--compression', 'uncompressed', '--chunk-size', '300000'], manifestType: 'application/vnd.docker.distribution.manifest.v2+json', layerType: /diff\.tar$/ },
  ];
  for (const f of formats) {
    test(`${f.name}: round trip with identical ID, read back by skopeo`, async () => {
      const repo = `fmt/${f.name.replace(/[^a-z]+/gi, '-').toLowerCase()}`;
      const name = `${reg.host}/${repo}:t`;
      const c = makeClient();
      await c.ok(['load', '-i', fixture('docker-save-busybox.tar')]);
      await c.ok(['tag', 'slipway-test/busybox', name]);
      const digest = /digest: (sha256:\w+)/.exec(await c.ok(['push', ...f.flags, name]))?.[1];
      const raw = await rawManifest(reg, repo, 't');
      assert.equal(raw.digest, digest);
      const doc = JSON.parse(raw.bytes.toString()) as { mediaType: string; layers: { mediaType: string }[] };
      assert.equal(doc.mediaType, f.manifestType);
      assert.match(doc.layers[0]?.mediaType ?? '', f.layerType);
      assert.equal(JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${name}`])).Digest, digest);
      await c.ok(['rmi', name, 'slipway-test/busybox']);
      assert.equal((await c.ok(['images', '-q'])).trim(), '');
      await c.ok(['pull', name]);
      assert.equal(await inspect(c, name, '{{.Id}}'), BUSYBOX_ID);
      assert.deepEqual(JSON.parse(await inspect(c, name, '{{json .RepoDigests}}')), [`${reg.host}/${repo}@${digest}`]);
    });
  }

  test('an image skopeo pushed is pulled with the same ID', async () => {
    skopeo(['copy', '--dest-tls-verify=false', `docker-archive:${fixture('docker-save-busybox.tar')}`, `docker://${reg.host}/skopeo/bb:1`]);
    const c = makeClient();
    const out = await c.ok(['pull', `${reg.host}/skopeo/bb:1`]);
    assert.match(out, /Status: Downloaded newer image/);
    assert.equal(await inspect(c, `${reg.host}/skopeo/bb:1`, '{{.Id}}'), BUSYBOX_ID);
  });

  test('a two-platform index: --platform picks the entry; RepoDigests name the index', async () => {
    const dir = suiteDir('slipway-idx-');
    const c = makeClient();
    const ids: Record<string, string> = {};
    const descs = [];
    for (const [platform, tag] of [['linux/amd64', 'amd64'], ['linux/arm64', 'arm64']] as const) {
      const name = `${reg.host}/multi/app:${tag}`;
      ids[platform] = await importImage(c, dir, name, platform, `hello from ${platform}\n`);
      await c.ok(['push', '--oci', name]);
      const raw = await rawManifest(reg, 'multi/app', tag);
      const [os, architecture] = platform.split('/');
      descs.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: raw.digest, size: raw.bytes.length, platform: { architecture, os } });
    }
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: descs }));
    const put = await request('PUT', `http://${reg.host}/v2/multi/app/manifests/both`, index, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
    assert.equal(put.status, 201, put.body.toString());
    const indexDigest = `sha256:${createHash('sha256').update(index).digest('hex')}`;
    for (const platform of ['linux/arm64', 'linux/amd64']) {
      const d = makeClient();
      const out = await d.ok(['pull', '--platform', platform, `${reg.host}/multi/app:both`]);
      assert.match(out, new RegExp(`Digest: ${indexDigest}`));
      assert.equal(await inspect(d, `${reg.host}/multi/app:both`, '{{.Id}}'), ids[platform]);
      assert.equal(await inspect(d, `${reg.host}/multi/app:both`, '{{.Architecture}}'), platform.split('/')[1]);
      assert.deepEqual(JSON.parse(await inspect(d, `${reg.host}/multi/app:both`, '{{json .RepoDigests}}')), [`${reg.host}/multi/app@${indexDigest}`]);
    }
    const e = makeClient();
    const bad = await e.run(['pull', '--platform', 'linux/s390x', `${reg.host}/multi/app:both`]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
    assert.equal((await e.ok(['images', '-q'])).trim(), '');
  });

  test('pull -a pulls every tag; push -a pushes every local tag', async () => {
    const c = makeClient();
    await c.ok(['load', '-i', fixture('docker-save-busybox.tar')]);
    for (const t of ['a', 'b']) await c.ok(['tag', 'slipway-test/busybox', `${reg.host}/all/bb:${t}`]);
    const push = await c.ok(['push', '-a', `${reg.host}/all/bb`]);
    assert.match(push, /^a: digest: sha256:\w+ size: \d+$/m);
    assert.match(push, /^b: digest: sha256:\w+ size: \d+$/m);
    const d = makeClient();
    const pull = await d.ok(['pull', '-a', `${reg.host}/all/bb`]);
    assert.match(pull, /^a: Pulling from all\/bb$/m);
    assert.match(pull, /^b: Pulling from all\/bb$/m);
    assert.match(pull, new RegExp(`Status: Downloaded newer image for ${reg.host}/all/bb\n${reg.host}/all/bb\n$`));
    assert.equal((await d.ok(['images', '--format', '{{.Tag}}', `${reg.host}/all/bb`])).split('\n').filter(Boolean).sort().join(','), 'a,b');
  });

  test('search lists catalog names containing the term; errors as Docker words them', async () => {
    const out = await a.ok(['search', `${reg.host}/rt`]);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\s+AUTOMATED$/);
    assert.ok(lines.some((l) => l.startsWith(`${reg.host}/rt/busybox `)), out);
    assert.equal(await a.ok(['search', '--format', '{{.Name}}', '--limit', '1', `${reg.host}/det`]), `${reg.host}/det/one\n`);
    const bad = await a.run(['search', '--limit', '0', `${reg.host}/rt`]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /Limit 0 is outside the range of \[1, 100\]/);
    const badFilter = await a.run(['search', '--filter', 'color=red', `${reg.host}/rt`]);
    assert.match(badFilter.stderr, /Invalid filter 'color'/);
  });

  test('pull of a missing tag or repository, push of a missing image: Docker\'s messages, exit 1', async () => {
    const c = makeClient();
    const r = await c.run(['pull', `${reg.host}/nosuch/repo`]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, 'Using default tag: latest\n');
    assert.equal(r.stderr, `Error: manifest for ${reg.host}/nosuch/repo:latest not found: manifest unknown: manifest unknown\n`);
    const p = await c.run(['push', `${reg.host}/nosuch/local`]);
    assert.equal(p.status, 1);
    assert.equal(p.stderr, `An image does not exist locally with the tag: ${reg.host}/nosuch/local\n`);
  });
});

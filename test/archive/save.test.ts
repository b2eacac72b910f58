/**
 * `slipway save`: the Docker >= 25 layout (docs/reference-docker.md), read
 * back by GNU tar, skopeo (docker-archive and oci-archive transports) and
 * slipway itself into an empty store with identical IDs.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asSlipway, cliCommand, loadedStore, reference, suiteStore, tempStore, type Store } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const SINGLE = 'sha256:eda48a51142c9e95c97549cc9044b7256af1c757bb2eae5fff43e7d3309aa3b4';
const tarList = (file: string) => execFileSync('tar', ['-tf', file]).toString().trim().split('\n');
const member = (file: string, name: string) => execFileSync('tar', ['-xOf', file, name]);
const json = <T>(file: string, name: string) => JSON.parse(member(file, name).toString()) as T;

interface DockerManifestItem { Config: string; RepoTags: string[] | null; Layers: string[]; LayerSources?: Record<string, { mediaType: string; size: number; digest: string }> }
interface Index { schemaVersion: number; mediaType: string; manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[] }

/** ID, tags and diff IDs of every image, as `inspect` shows them. */
async function idsOf(store: Store): Promise<string> {
  const ids = [...new Set((await store.ok(['images', '-aq', '--no-trunc'])).trim().split('\n').filter(Boolean))].sort();
  return ids.length ? store.ok(['inspect', '-f', '{{.Id}} {{.RepoTags}} {{.RootFS.Layers}}', ...ids]) : '';
}

describe('save', () => {
  const store = suiteStore();
  before(() => loadedStore(store, ['docker-save-single.tar', 'docker-save-multi.tar', 'docker-save-by-id.tar']));

  test('save -o of one image: the Docker 25+ layout, every blob named by its digest', async (t) => {
    const file = join(await tempDir(t), 'single.tar');
    const res = await store.run(['save', '-o', file, 'slipway-test/single:1.0']);
    assert.deepEqual([res.stdout, res.stderr, res.status], ['', '', 0]);
    const names = tarList(file);
    const blobs = names.filter((n) => /^blobs\/sha256\/[0-9a-f]{64}$/.test(n));
    assert.deepEqual(names.filter((n) => !blobs.includes(n)).sort(), ['blobs/', 'blobs/sha256/', 'index.json', 'manifest.json', 'oci-layout', 'repositories']);
    for (const b of blobs) assert.equal(`sha256:${createHash('sha256').update(member(file, b)).digest('hex')}`, `sha256:${b.slice(13)}`, b);
    assert.equal(member(file, 'oci-layout').toString(), '{"imageLayoutVersion": "1.0.0"}');
    const index = json<Index>(file, 'index.json');
    assert.ok(!member(file, 'index.json').toString().endsWith('\n'), 'index.json as json.Marshal writes it');
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(index.manifests.map((m) => m.annotations), [{ 'io.containerd.image.name': 'docker.io/slipway-test/single:1.0', 'org.opencontainers.image.ref.name': '1.0' }]);
    const manifest = json<{ config: { digest: string }; layers: { mediaType: string; digest: string }[] }>(file, `blobs/sha256/${index.manifests[0]?.digest.slice(7)}`);
    assert.equal(manifest.config.digest, SINGLE);
    const diffIds = JSON.parse(await store.ok(['inspect', '-f', '{{json .RootFS.Layers}}', SINGLE])) as string[];
    assert.deepEqual(manifest.layers.map((l) => l.digest), diffIds, 'uncompressed layers: digest = diff ID');
    assert.ok(manifest.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar'));
    const [item] = json<DockerManifestItem[]>(file, 'manifest.json');
    assert.equal(item?.Config, `blobs/sha256/${SINGLE.slice(7)}`);
    assert.deepEqual(item?.RepoTags, ['slipway-test/single:1.0']);
    assert.deepEqual(item?.Layers, diffIds.map((d) => `blobs/sha256/${d.slice(7)}`));
    assert.deepEqual(Object.keys(item?.LayerSources ?? {}), [...diffIds].sort());
    assert.deepEqual(json(file, 'repositories'), { 'slipway-test/single': { '1.0': diffIds[diffIds.length - 1]?.slice(7) } });
    // GNU tar's verbose listing reads every header.
    assert.match(execFileSync('tar', ['-tvf', file]).toString(), /^-rw-r--r-- 0\/0 +8192 .* blobs\/sha256\/99cf5517/m);
  });

  test('several images in one file store the shared base layer once; the archive reloads with identical IDs', async (t) => {
    const file = join(await tempDir(t), 'all.tar');
    await store.ok(['save', '-o', file, 'slipway-test/single:1.0', 'slipway-test/single:latest', 'slipway-test/app-a:1', 'slipway-test/app-b:1', 'bfc0bce35b92']);
    const items = json<DockerManifestItem[]>(file, 'manifest.json');
    assert.equal(items.length, 4);
    const layerPaths = items.flatMap((i) => i.Layers);
    const names = tarList(file);
    assert.equal(names.length, new Set(names).size, 'every entry once');
    assert.ok(layerPaths.length > new Set(layerPaths).size, 'app-a and app-b share their base layer');
    assert.deepEqual(items.find((i) => i.Config.endsWith(SINGLE.slice(7)))?.RepoTags, ['slipway-test/single:1.0', 'slipway-test/single:latest']);
    assert.equal(items.find((i) => i.Config.includes('bfc0bce35b92'))?.RepoTags, null);
    const other = await tempStore(t);
    await other.ok(['load', '-i', file]);
    assert.equal(await idsOf(other), await idsOf(store));
  });

  test('save by ID of a tagged image, to stdout, records no tags (RepoTags null, no repositories file)', async (t) => {
    const res = await store.run(['save', 'eda48a51142c']);
    assert.equal(res.status, 0);
    const file = join(await tempDir(t), 'x.tar');
    await writeFile(file, res.stdoutBytes);
    assert.equal(json<DockerManifestItem[]>(file, 'manifest.json')[0]?.RepoTags, null);
    assert.ok(!tarList(file).includes('repositories'));
    assert.deepEqual(json<Index>(file, 'index.json').manifests.map((m) => m.annotations), [undefined]);
  });

  test('save REPO (no tag) saves every tag of the repository (save-repo-all-tags.txt)', async (t) => {
    const res = await store.run(['save', 'slipway-test/single']);
    const ref = reference('save-repo-all-tags').stdout.split('\n');
    const expectedTags = (JSON.parse(ref[0] ?? '[]') as DockerManifestItem[])[0]?.RepoTags;
    const file = join(await tempDir(t), 'r.tar');
    await writeFile(file, res.stdoutBytes);
    assert.deepEqual(json<DockerManifestItem[]>(file, 'manifest.json')[0]?.RepoTags, expectedTags);
    assert.deepEqual(Object.keys(json<Record<string, Record<string, string>>>(file, 'repositories')['slipway-test/single'] ?? {}), ['1.0', 'latest']);
  });

  test('skopeo reads the archive as docker-archive and as oci-archive', async (t) => {
    const file = join(await tempDir(t), 'single.tar');
    await store.ok(['save', '-o', file, 'slipway-test/single:1.0']);
    const asDocker = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${file}`]).toString()) as { Layers: string[]; Labels: Record<string, string> };
    const asOci = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${file}`]).toString()) as { Layers: string[]; Created: string };
    const diffIds = JSON.parse(await store.ok(['inspect', '-f', '{{json .RootFS.Layers}}', SINGLE])) as string[];
    assert.deepEqual(asDocker.Layers, diffIds);
    assert.deepEqual(asDocker.Labels, { 'org.example.team': 'slipway', x: 'y' });
    assert.deepEqual(asOci.Layers, diffIds);
    assert.equal(asOci.Created, '2026-11-23T08:25:10.526543871Z');
  });

  test('refuses to write to a terminal (save-tty.txt)', async (t) => {
    const r = reference('save-tty');
    const dir = await tempDir(t);
    const cmd = `${cliCommand([]).flat().join(' ')} --root ${store.root} save slipway-test/single:1.0; echo "exit=$?"`;
    const out = execFileSync('script', ['-qc', cmd, '/dev/null'], { cwd: dir, env: { ...process.env, TERM: 'dumb' } }).toString().replace(/\r/g, '');
    assert.equal(out, `${r.stdout.replace(/\r/g, '')}exit=${r.exit}\n`);
  });

  test('a missing image fails (save-missing.txt) and leaves no file behind', async (t) => {
    const dir = await tempDir(t);
    const r = reference('save-missing');
    const res = await store.run(['save', '-o', join(dir, 'x.tar'), 'nosuch']);
    assert.equal(res.stderr, asSlipway(r.stderr));
    assert.equal(res.status, r.exit);
    assert.ok(!existsSync(join(dir, 'x.tar')));
    assert.deepEqual(await readdir(dir), []);
  });

  test('the saved bytes of a layer are the loaded fixture\'s bytes', async (t) => {
    const file = join(await tempDir(t), 'bb.tar');
    await store.ok(['save', '-o', file, 'slipway-test/app-a:1']);
    const [item] = json<DockerManifestItem[]>(file, 'manifest.json');
    for (const l of item?.Layers ?? []) assert.equal(createHash('sha256').update(member(file, l)).digest('hex'), l.slice(13));
    assert.ok(readFileSync(file).length % 512 === 0);
  });
});

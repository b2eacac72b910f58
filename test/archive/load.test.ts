/**
 * `slipway load` on archives written by a real Docker (test/fixtures), compared
 * with what Docker printed for them (test/fixtures/reference/load-*.txt), and
 * the IDs, tags and diff IDs read back against the archives themselves.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fixture, reference, storeListing, tempStore, type Store } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

interface ArchiveImage {
  id: string;
  repoTags: string[];
  layers: string[];
}

/** The images an archive holds, read with GNU tar from its manifest.json and configs. */
function archiveImages(file: string): ArchiveImage[] {
  const read = (member: string) => execFileSync('tar', ['-xOf', file, member]).toString('utf8');
  const manifest = JSON.parse(read('manifest.json')) as { Config: string; RepoTags: string[] | null }[];
  return manifest.map((m) => {
    const config = JSON.parse(read(m.Config)) as { rootfs: { diff_ids: string[] } };
    const hex = /([0-9a-f]{64})(\.json)?$/.exec(m.Config)?.[1];
    return { id: `sha256:${hex}`, repoTags: m.RepoTags ?? [], layers: config.rootfs.diff_ids };
  });
}

function ociManifest(file: string): { config: { digest: string }; layers: { mediaType: string }[] } {
  const index = JSON.parse(execFileSync('tar', ['-xOf', file, 'index.json']).toString()) as { manifests: { digest: string }[] };
  return JSON.parse(execFileSync('tar', ['-xOf', file, `blobs/sha256/${index.manifests[0]?.digest.slice(7)}`]).toString()) as never;
}
const ociLayerTypes = (file: string) => ociManifest(file).layers.map((l) => l.mediaType);
const ociConfigDigest = (file: string) => ociManifest(file).config.digest;

/** What the store says about an image: ID, tags, diff IDs. */
async function inspected(store: Store, word: string): Promise<ArchiveImage> {
  const out = await store.ok(['image', 'inspect', '-f', '{{json .Id}}\t{{json .RepoTags}}\t{{json .RootFS.Layers}}', word]);
  const [id, tags, layers] = out.trim().split('\t').map((s) => JSON.parse(s) as unknown);
  return { id: id as string, repoTags: tags as string[], layers: layers as string[] };
}

const CASES = [
  { archive: 'docker-save-single.tar', ref: 'load-single', args: ['-i'] },
  { archive: 'docker-save-multi.tar', ref: 'load-multi', args: ['-i'] },
  { archive: 'docker-save-busybox.tar', ref: 'load-busybox-stdin', args: [] },
  { archive: 'docker-save-by-id.tar', ref: 'load-by-id-q', args: ['-q', '-i'] },
  { archive: 'docker25-save-oci.tar', ref: 'load-docker25-oci', args: ['-i'] },
  { archive: 'docker-save-legacy.tar', ref: undefined, args: ['-i'] },
];

describe('load prints what Docker printed and stores the archive images unchanged', () => {
  for (const c of CASES) {
    test(`${c.args.join(' ') || '<stdin'} ${c.archive}`, async (t) => {
      const store = await tempStore(t);
      const stdin = c.args.length === 0 ? { file: fixture(c.archive) } : undefined;
      const res = await store.run(['load', ...c.args, ...(stdin ? [] : [fixture(c.archive)])], stdin);
      const images = archiveImages(fixture(c.archive));
      if (c.ref) {
        const ref = reference(c.ref);
        assert.equal(res.stdout, ref.stdout);
        assert.equal(res.stderr, ref.stderr);
        assert.equal(res.status, ref.exit);
      } else {
        assert.equal(res.stdout, images.flatMap((i) => i.repoTags.map((n) => `Loaded image: ${n}\n`)).join(''));
        assert.equal(res.status, 0);
      }
      for (const img of images) assert.deepEqual(await inspected(store, img.id), img);
    });
  }

  test('loading the same archive twice prints the same lines and changes nothing', async (t) => {
    const store = await tempStore(t);
    const first = await store.ok(['load', '-i', fixture('docker-save-multi.tar')]);
    const listing = await storeListing(store.root);
    const images = await store.ok(['images', '--no-trunc']);
    const again = await store.run(['load', '-i', fixture('docker-save-multi.tar')]);
    assert.equal(again.stdout, first);
    assert.equal(again.stdout, reference('load-multi-after-rmi').stdout);
    assert.equal(again.status, 0);
    assert.deepEqual(await storeListing(store.root), listing);
    assert.equal(await store.ok(['images', '--no-trunc']), images);
  });

  test('a tag that moves to the loaded image prints the "renaming the old one" line; the old image is left untagged', async (t) => {
    const store = await tempStore(t);
    await store.ok(['load', '-i', fixture('docker-save-legacy.tar')]);
    const [legacy] = archiveImages(fixture('docker-save-legacy.tar'));
    assert.ok(legacy);
    await store.ok(['tag', 'slipway-test/legacy:1', 'slipway-test/single:1.0']);
    await store.ok(['rmi', 'slipway-test/legacy:1']);
    const res = await store.run(['load', '-i', fixture('docker-save-single.tar')]);
    const ref = reference('load-tag-moves');
    assert.equal(res.stdout, ref.stdout.replace(/sha256:[0-9a-f]{64}/, legacy.id));
    assert.equal(res.status, 0);
    const dangling = await store.ok(['images', '--filter', 'dangling=true', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']);
    assert.equal(dangling, `${legacy.id} <none>:<none>\n`);
  });

  for (const [tool, flag] of [['gzip', '-c'], ['bzip2', '-c'], ['xz', '-c'], ['zstd', '-qc']] as const) {
    test(`a ${tool}-compressed archive loads, from a file and from stdin`, async (t) => {
      const dir = await tempDir(t);
      const file = join(dir, `single.tar.${tool}`);
      execFileSync('sh', ['-c', `${tool} ${flag} "$1" > "$2"`, 'sh', fixture('docker-save-single.tar'), file]);
      for (const stdin of [false, true]) {
        const store = await tempStore(t);
        const res = stdin ? await store.run(['load'], { file }) : await store.run(['load', '-i', file]);
        assert.equal(res.stderr, '');
        assert.equal(res.stdout, reference('load-single').stdout);
        assert.deepEqual(await inspected(store, 'slipway-test/single:latest'), archiveImages(fixture('docker-save-single.tar'))[0]);
      }
    });
  }

  test('an OCI archive written by skopeo with gzip layers loads with the image ID, tag and diff IDs of the docker archive', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'oci.tar');
    // OCI layout -> OCI archive keeps the config bytes (hence the ID) and gzips the layers.
    execFileSync('skopeo', ['copy', '-q', '--dest-compress', `oci-archive:${fixture('docker25-save-oci.tar')}:1.0`, `oci-archive:${file}:slipway-test/single:1.0`]);
    assert.ok(ociLayerTypes(file).every((m) => m.endsWith('+gzip')), 'skopeo wrote gzip layers');
    const store = await tempStore(t);
    const res = await store.run(['load', '-i', file]);
    assert.equal(res.stdout, 'Loaded image: slipway-test/single:1.0\n');
    assert.equal(res.status, 0);
    const [expected] = archiveImages(fixture('docker-save-single.tar'));
    assert.ok(expected);
    assert.deepEqual(await inspected(store, 'slipway-test/single:1.0'), { ...expected, repoTags: ['slipway-test/single:1.0'] });
    // Sizes come from the decompressed layers, as for the docker archive.
    assert.equal(await store.ok(['inspect', '-f', '{{.Size}}', 'slipway-test/single:1.0']), '82\n');
  });

  test('an OCI archive skopeo converted from the docker archive loads with the ID of the config skopeo wrote', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'oci.tar');
    execFileSync('skopeo', ['copy', '-q', `docker-archive:${fixture('docker-save-single.tar')}`, `oci-archive:${file}:slipway-test/single:1.0`]);
    const config = ociConfigDigest(file);
    const store = await tempStore(t);
    const res = await store.run(['load', '-i', file]);
    assert.equal(res.stdout, 'Loaded image: slipway-test/single:1.0\n');
    const [expected] = archiveImages(fixture('docker-save-single.tar'));
    assert.ok(expected);
    // skopeo re-encodes the config (it drops "OnBuild": null), so the ID is that config's digest, as in Docker.
    assert.deepEqual(await inspected(store, 'slipway-test/single:1.0'), { id: config, repoTags: ['slipway-test/single:1.0'], layers: expected.layers });
  });
});

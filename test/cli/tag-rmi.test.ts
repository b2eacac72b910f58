/**
 * `slipway tag` and `rmi` against docker's recorded outputs (rmi-*.txt,
 * tag*.txt), and the store after them: blobs nothing references are gone.
 *
 * Docker's recordings show no `Deleted: <chain ID>` layer lines because the
 * reference engine's BuildKit cache still held those layers; slipway has no
 * build cache, so it releases them and prints them as Docker does when it
 * does release a layer. The expectations add those lines, computed here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { asSlipway, loadedStore, reference, tempStore, type Store } from '../helpers/cli.js';

/** Chain IDs of an image's layers (OCI image-spec: chain[i] = sha256(chain[i-1] + " " + diff[i])). */
async function chainIds(store: Store, image: string): Promise<string[]> {
  const layers = JSON.parse(await store.ok(['inspect', '-f', '{{json .RootFS.Layers}}', image])) as string[];
  const out: string[] = [];
  for (const d of layers) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

async function blobs(store: Store): Promise<string[]> {
  return (await readdir(join(store.root, 'blobs', 'sha256')).catch(() => [] as string[])).sort();
}

/** Asserts a run printed exactly what the reference shows (stdout with `extra` lines appended). */
async function assertLike(store: Store, args: string[], ref: string, extra: string[] = []): Promise<void> {
  const r = reference(ref);
  const res = await store.run(args);
  assert.equal(res.stdout, r.stdout + extra.map((l) => `${l}\n`).join(''));
  assert.equal(res.stderr, asSlipway(r.stderr));
  assert.equal(res.status, r.exit);
}

describe('tag', () => {
  test('tag adds a name silently (tag.txt); rmi of that tag only untags (rmi-tag-others-remain.txt)', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-single.tar']);
    const before = await blobs(store);
    await assertLike(store, ['tag', 'slipway-test/single:1.0', 'slipway-test/single:extra'], 'tag');
    assert.equal(await store.ok(['inspect', '-f', '{{.RepoTags}}', 'slipway-test/single:extra']), '[slipway-test/single:1.0 slipway-test/single:extra slipway-test/single:latest]\n');
    await assertLike(store, ['rmi', 'slipway-test/single:extra'], 'rmi-tag-others-remain');
    assert.deepEqual(await blobs(store), before);
  });

  test('errors: missing source, upper-case target, no arguments', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-single.tar']);
    await assertLike(store, ['tag', 'nosuch', 'slipway-test/x:1'], 'tag-missing');
    await assertLike(store, ['tag', 'slipway-test/single:1.0', 'Slipway/Bad:1'], 'tag-uppercase');
    await assertLike(store, ['tag'], 'tag-no-args');
  });
});

describe('rmi', () => {
  test('the last tag untags and deletes the image and the layers only it used (rmi-last-tag.txt)', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-multi.tar']);
    const chainB = await chainIds(store, 'slipway-test/app-b:1');
    const chainA = await chainIds(store, 'slipway-test/app-a:1');
    assert.equal(chainA[0], chainB[0], 'the base layer is shared');
    await assertLike(store, ['rmi', 'slipway-test/app-b:1'], 'rmi-last-tag', [`Deleted: ${chainB[1]}`]);
    const left = await blobs(store);
    const layersB = JSON.parse(await store.ok(['inspect', '-f', '{{json .RootFS.Layers}}', 'slipway-test/app-a:1'])) as string[];
    assert.ok(left.includes((layersB[0] ?? '').slice(7)), 'the shared base layer stays');
    assert.ok(!left.includes('5e4702828072110bc41f75ef03f6158c2d41eaa45c793f3962d576e42871dd03'), "app-b's config is gone");
    assert.equal(await store.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'slipway-test/app-a:1\n');
  });

  test('an ID referenced by two repositories is refused without -f, removed with -f (rmi-id-two-repos.txt, rmi-f-id-two-repos.txt)', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-multi.tar']);
    await store.ok(['tag', 'slipway-test/app-a:1', 'slipway-test/app-a-copy:1']);
    await assertLike(store, ['rmi', 'cfccf37a6f33'], 'rmi-id-two-repos');
    const chainA = await chainIds(store, 'cfccf37a6f33');
    await assertLike(store, ['rmi', '-f', 'cfccf37a6f33'], 'rmi-f-id-two-repos', [`Deleted: ${chainA[1]}`]);
  });

  test('an ID with two tags of one repository is refused too (rmi-id-two-tags-same-repo.txt)', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-single.tar']);
    await assertLike(store, ['rmi', 'eda48a51142c'], 'rmi-id-two-tags-same-repo');
  });

  test('a short ID of an untagged image deletes it and its layers (rmi-short-id-untagged.txt)', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-by-id.tar']);
    const chain = await chainIds(store, 'bfc0bce35b92');
    await assertLike(store, ['rmi', 'bfc0bce35b92'], 'rmi-short-id-untagged', chain.reverse().map((c) => `Deleted: ${c}`));
    assert.deepEqual(await blobs(store), [], 'no blob left');
  });

  test('with exactly one tag, rmi <id> untags and deletes', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-multi.tar']);
    const res = await store.run(['rmi', '5e4702828072']);
    assert.match(res.stdout, /^Untagged: slipway-test\/app-b:1\nDeleted: sha256:5e4702828072110bc41f75ef03f6158c2d41eaa45c793f3962d576e42871dd03\nDeleted: sha256:[0-9a-f]{64}\n$/);
  });

  test('missing images: the error (rmi-missing.txt); mixed with a present one, that one is still removed, exit 1 (rmi-missing-and-present.txt)', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-single.tar']);
    await assertLike(store, ['rmi', 'nosuch'], 'rmi-missing');
    await assertLike(store, ['rmi', 'nosuch', 'slipway-test/single:latest'], 'rmi-missing-and-present');
    await assertLike(store, ['rmi'], 'rmi-no-args');
  });

  test('by repo digest', { skip: 'needs a RepoDigest, which only a registry push or pull gives (no registry here)' }, () => undefined);

  test('removing every image with -f leaves no blob behind', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-single.tar', 'docker-save-multi.tar', 'docker-save-by-id.tar']);
    const ids = (await store.ok(['images', '-q', '--no-trunc'])).trim().split('\n');
    const res = await store.run(['rmi', '-f', ...new Set(ids)]);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(await blobs(store), []);
    assert.equal(await store.ok(['images', '-aq']), '');
  });
});

/**
 * Four slipway processes loading, tagging, removing and pruning on one store
 * at once (a few rounds each) never corrupt it: afterwards every tag
 * resolves, inspect works on every image, every blob an image references is
 * in the store, and a save of everything reloads elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture, tempStore, type CliResult, type Store } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** Failures a racing command may legitimately report (the image it wanted is gone, or content vanished under a prune). */
const ALLOWED = /^(Error: )?(No such image: |conflict: |content sha256:[0-9a-f]{64} vanished)/;

type Run = CliResult & { args: string[] };

/** Runs `n` rounds of commands, one after the other (each worker is sequential; workers race each other). */
async function rounds(store: Store, n: number, step: (i: number) => string[][]): Promise<Run[]> {
  const out: Run[] = [];
  for (let i = 0; i < n; i++) for (const args of step(i)) out.push({ ...(await store.run(args)), args });
  return out;
}

async function blobExists(store: Store, digest: string): Promise<boolean> {
  return stat(join(store.root, 'blobs', 'sha256', digest.slice(7))).then(() => true, () => false);
}

test('concurrent load / tag / rmi / prune -af keep the store consistent', async (t) => {
  const store = await tempStore(t);
  await store.ok(['load', '-i', fixture('docker-save-single.tar')]);
  const results = (await Promise.all([
    rounds(store, 3, () => [['load', '-i', fixture('docker-save-multi.tar')], ['load', '-i', fixture('docker-save-single.tar')]]),
    rounds(store, 4, (i) => [['tag', 'slipway-test/single:1.0', `slipway-test/copy:${i}`], ['rmi', `slipway-test/copy:${Math.max(0, i - 1)}`]]),
    rounds(store, 3, () => [['rmi', 'slipway-test/app-a:1'], ['load', '-i', fixture('docker-save-by-id.tar')]]),
    rounds(store, 3, () => [['image', 'prune', '-af']]),
  ])).flat();
  for (const r of results) {
    if (r.status !== 0) assert.match(r.stderr, ALLOWED, `unexpected failure of slipway ${r.args.join(' ')}: ${r.stderr}`);
  }

  // Every name resolves and every image inspects.
  const names = (await store.ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).trim().split('\n').filter((n) => n && n !== '<none>:<none>');
  for (const n of names) assert.match(await store.ok(['inspect', '-f', '{{.Id}}', n]), /^sha256:[0-9a-f]{64}\n$/);
  const ids = [...new Set((await store.ok(['images', '-aq', '--no-trunc'])).trim().split('\n').filter(Boolean))];
  if (ids.length > 0) assert.equal((await store.ok(['inspect', '-f', '{{.Id}}', ...ids])).trim().split('\n').length, ids.length);

  // Every blob referenced from the index (manifests, their configs and layers) exists.
  const index = JSON.parse(await readFile(join(store.root, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  for (const m of index.manifests) {
    assert.ok(await blobExists(store, m.digest), `manifest ${m.digest}`);
    const manifest = JSON.parse(await readFile(join(store.root, 'blobs', 'sha256', m.digest.slice(7)), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [manifest.config, ...manifest.layers]) assert.ok(await blobExists(store, d.digest), `blob ${d.digest} of ${m.digest}`);
  }

  // And the whole store still saves and reloads.
  if (ids.length > 0) {
    const file = join(await tempDir(t), 'all.tar');
    await store.ok(['save', '-o', file, ...ids]);
    const other = await tempStore(t);
    const loaded = await other.ok(['load', '-i', file]);
    assert.equal(loaded.trim().split('\n').length, ids.length);
  }
});

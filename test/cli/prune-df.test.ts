/**
 * `slipway image prune` and `system df` on the loaded fixtures, against
 * Docker's recorded outputs. As in tag-rmi.test.ts, slipway has no build
 * cache holding layers, so it releases them: the expectations add the
 * `deleted: <chain ID>` lines and the reclaimed bytes Docker prints when it
 * does release layers. Times are absolute so nothing depends on the clock.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { humanSize, humanSizeWithPrecision } from '../../src/cli/humanize.js';
import { loadedStore, normaliseTable, parseTable, reference, storeListing, suiteStore, tempStore, type Store } from '../helpers/cli.js';

/** Chain IDs, top first, of an image's layers. */
async function chainsTopFirst(store: Store, image: string): Promise<string[]> {
  const layers = JSON.parse(await store.ok(['inspect', '-f', '{{json .RootFS.Layers}}', image])) as string[];
  const out: string[] = [];
  for (const d of layers) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out.reverse();
}

const SINGLE = 'sha256:eda48a51142c9e95c97549cc9044b7256af1c757bb2eae5fff43e7d3309aa3b4';
const BY_ID = 'sha256:bfc0bce35b92c8e45ba2ff40037edfe93f45353679508c4a22d0dd0dd98344d5';

describe('image prune', () => {
  for (const [args, ref] of [[['image', 'prune'], 'image-prune-prompt-no'], [['image', 'prune', '-a'], 'image-prune-a-prompt-no']] as const) {
    test(`${args.join(' ')} answered n: the prompt (${ref}.txt), exit 0, nothing deleted`, async (t) => {
      const store = await loadedStore(await tempStore(t), ['docker-save-by-id.tar', 'docker-save-single.tar']);
      const listing = await storeListing(store.root);
      const res = await store.run([...args], 'n\n');
      assert.equal(res.stdout, reference(ref).stdout);
      assert.equal(res.status, 0);
      assert.deepEqual(await storeListing(store.root), listing);
    });
  }

  test('answered y: deletes the dangling image only, its layers, and the reclaimed total', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-by-id.tar', 'docker-save-single.tar']);
    const chains = await chainsTopFirst(store, BY_ID);
    const size = Number(await store.ok(['inspect', '-f', '{{.Size}}', BY_ID]));
    const res = await store.run(['image', 'prune'], 'y\n');
    assert.equal(res.stdout, `${reference('image-prune-prompt-no').stdout}Deleted Images:\ndeleted: ${BY_ID}\n${chains.map((c) => `deleted: ${c}\n`).join('')}\nTotal reclaimed space: ${humanSize(size)}\n`);
    assert.equal(await store.ok(['images', '-aq', '--no-trunc']), `${SINGLE}\n${SINGLE}\n`);
  });

  test('-f with nothing to delete prints only the total (image-prune-empty.txt)', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-single.tar']);
    assert.equal(await store.ok(['image', 'prune', '-f']), reference('image-prune-empty').stdout);
  });

  test('-a -f --filter label=x=y deletes the labelled image (image-prune-a-f-label.txt)', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-single.tar', 'docker-save-multi.tar']);
    const chains = await chainsTopFirst(store, SINGLE);
    const r = reference('image-prune-a-f-label');
    const expected = r.stdout.replace(/^untagged: localhost:5000.*\n/m, '')
      .replace(`deleted: ${SINGLE}\n`, `deleted: ${SINGLE}\n${chains.map((c) => `deleted: ${c}\n`).join('')}`)
      .replace('Total reclaimed space: 0B', 'Total reclaimed space: 82B');
    assert.equal(await store.ok(['image', 'prune', '-a', '-f', '--filter', 'label=x=y']), expected);
    assert.equal(await store.ok(['images', '--format', '{{.Repository}}'], undefined).then((s) => s.split('\n').sort().join(' ')), ' slipway-test/app-a slipway-test/app-b');
  });

  test('-a -f --filter until=<timestamp> deletes only images created before it', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-busybox.tar', 'docker-save-single.tar']);
    // Nothing was created before 2000 (same output as image-prune-a-until-24h.txt).
    assert.equal(await store.ok(['image', 'prune', '-a', '-f', '--filter', 'until=2000-01-01T00:00:00Z']), reference('image-prune-a-until-24h').stdout);
    const out = await store.ok(['image', 'prune', '-a', '-f', '--filter', 'until=2026-11-23T08:25:00Z']);
    assert.match(out, /^Deleted Images:\nuntagged: slipway-test\/busybox:latest\ndeleted: sha256:abd4ffa074a5[0-9a-f]{52}\ndeleted: sha256:c8b2227026083caac9c96bfcb4616b76376ea7afd64d08dc71a71bbaf096601f\n\nTotal reclaimed space: 1\.982MB\n$/);
    assert.equal(await store.ok(['images', '-q']), 'eda48a51142c\neda48a51142c\n');
  });

  test('-a -f deletes everything, shared layers counted once in the total', async (t) => {
    const store = await loadedStore(await tempStore(t), ['docker-save-multi.tar', 'docker-save-by-id.tar']);
    const out = await store.ok(['image', 'prune', '-a', '-f']);
    // app-a 24B and app-b 24B share an 18B base layer; by-id 26B: 18 + 6 + 6 + 26.
    assert.match(out, /\n\nTotal reclaimed space: 56B\n$/);
    assert.equal((out.match(/^untagged: /gm) ?? []).length, 2);
    // 3 images; layers: app-a's top, then app-b's top and the base, by-id's one layer.
    assert.equal((out.match(/^deleted: /gm) ?? []).length, 3 + 4);
    assert.equal(await store.ok(['images', '-aq']), '');
  });
});

describe('system df', () => {
  const store = suiteStore();
  before(() => loadedStore(store, ['docker-save-busybox.tar', 'docker-save-single.tar', 'docker-save-multi.tar', 'docker-save-by-id.tar']));

  test('an empty store: zeros (system-df-empty.txt, no build cache here)', async (t) => {
    const empty = await tempStore(t);
    const expected = reference('system-df-empty').stdout.replace(/^Build Cache.*$/m, 'Build Cache     0         0         0B        0B');
    assert.equal(await empty.ok(['system', 'df']), expected);
  });

  test('the images row counts shared layers once; all of it is reclaimable (no containers)', async () => {
    // busybox 1982365 + single 82 + base 18 + app-a 6 + app-b 6 + by-id 26
    const total = humanSize(1982365 + 82 + 18 + 6 + 6 + 26);
    const out = await store.ok(['system', 'df']);
    assert.equal(out, [
      'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE',
      `Images          5         0         ${total.padEnd(10)}${total} (100%)`,
      'Containers      0         0         0B        0B',
      'Local Volumes   0         0         0B        0B',
      'Build Cache     0         0         0B        0B', ''].join('\n'));
  });

  test('--format: plain lines and json, as system-df-format*.txt shape them', async () => {
    const plain = await store.ok(['system', 'df', '--format', '{{.Type}}\\t{{.TotalCount}}\\t{{.Active}}\\t{{.Size}}\\t{{.Reclaimable}}']);
    assert.equal(plain.split('\n')[0], `Images\t5\t0\t${humanSize(1982503)}\t${humanSize(1982503)} (100%)`);
    const json = (await store.ok(['system', 'df', '--format', 'json'])).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    const refKeys = Object.keys(JSON.parse(reference('system-df-format-json').stdout.split('\n')[0] ?? '{}') as object);
    assert.deepEqual(json.map((o) => Object.keys(o)), json.map(() => refKeys));
    assert.deepEqual(json.map((o) => o.Type), ['Images', 'Containers', 'Local Volumes', 'Build Cache']);
  });

  test('-v is --verbose, not the program\'s --version', async () => {
    assert.match(await store.ok(['system', 'df', '-v']), /^Images space usage:\n/);
  });

  test('--verbose: per-image SIZE, SHARED SIZE, UNIQUE SIZE as system-df-v.txt shows them for these images', async () => {
    const out = await store.ok(['system', 'df', '--verbose']);
    const sections = out.split(/\n(?=Containers space usage:|Local Volumes space usage:|Build cache usage:)/);
    assert.equal(sections.length, 4);
    const imagesPart = (s: string) => s.replace(/^Images space usage:\n\n/, '').replace(/\n+$/, '\n');
    const ours = new Set(['abd4ffa074a5', 'eda48a51142c', 'cfccf37a6f33', '5e4702828072', 'bfc0bce35b92']);
    const sortKey = (row: Record<string, string>) => row['IMAGE ID'] ?? '';
    const refImages = imagesPart(reference('system-df-v').stdout.split(/\n(?=Containers space usage:)/)[0] ?? '');
    const expected = normaliseTable(refImages, { keep: (row) => ours.has(row['IMAGE ID'] ?? ''), sortKey })
      .replace(/ 2\n/, ' 0\n'); // busybox: the reference engine had two containers using it
    assert.equal(normaliseTable(imagesPart(sections[0] ?? ''), { sortKey }), expected);
    assert.equal(parseTable(imagesPart(sections[0] ?? '')).rows.find((r) => r[2] === 'abd4ffa074a5')?.[4], humanSizeWithPrecision(1982365, 3));
    assert.equal(sections[1], 'Containers space usage:\n\nCONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES\n');
    assert.equal(sections[2], 'Local Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\n');
    assert.equal(sections[3], 'Build cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n');
  });
});

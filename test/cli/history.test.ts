/**
 * `slipway history` of the loaded fixtures against what `docker history`
 * printed (test/fixtures/reference/history-*.txt), relative times masked.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { asSlipway, loadedStore, normaliseTable, parseTable, reference, renderTable, suiteStore } from '../helpers/cli.js';

describe('history on the loaded fixtures', () => {
  const store = suiteStore();
  let legacyId = '';
  before(async () => {
    await loadedStore(store, ['docker-save-busybox.tar', 'docker-save-single.tar', 'docker-save-by-id.tar', 'docker-save-legacy.tar']);
    legacyId = (await store.ok(['inspect', '-f', '{{.Id}}', 'slipway-test/legacy:1'])).trim();
  });

  const TABLES: [string[], string][] = [
    [['history', 'slipway-test/single:1.0'], 'history-single'],
    [['image', 'history', '--no-trunc', 'slipway-test/single:1.0'], 'history-single-no-trunc'],
    [['history', '-H=false', 'slipway-test/single:1.0'], 'history-single-H-false'],
    [['history', '--format', 'table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedAt}}\\t{{.Size}}', 'slipway-test/single:1.0'], 'history-single-format-table'],
    [['history', 'slipway-test/busybox:latest'], 'history-busybox'],
    [['history', 'bfc0bce35b92'], 'history-by-id'],
  ];
  for (const [args, ref] of TABLES) {
    test(`${args.join(' ')} matches ${ref}.txt`, async () => {
      const r = reference(ref);
      const res = await store.run(args);
      assert.equal(res.status, 0);
      assert.equal(res.stderr, '');
      // Cells exactly as Docker's (relative times masked), re-aligned as tabwriter does.
      assert.equal(normaliseTable(res.stdout), normaliseTable(r.stdout));
      assert.equal(res.stdout, renderTable(parseTable(res.stdout)), 'aligned as Go tabwriter');
    });
  }

  test('-H=false prints byte counts and RFC 3339 times exactly as Docker', async () => {
    assert.equal(await store.ok(['history', '-H=false', 'slipway-test/single:1.0']), reference('history-single-H-false').stdout);
  });

  test('-q prints the IMAGE column only', async () => {
    assert.equal(await store.ok(['history', '-q', 'slipway-test/single:1.0']), reference('history-single-q').stdout);
  });

  test('--format without table: plain lines, tabs kept (history-single-format.txt)', async () => {
    const out = await store.ok(['history', '--format', '{{.ID}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}', 'slipway-test/single:1.0']);
    assert.equal(out, reference('history-single-format').stdout);
  });

  test('--format json: one object per row, CreatedBy truncated (history-single-format-json.txt)', async () => {
    const rows = (t: string) => t.trim().split('\n').map((l) => ({ ...(JSON.parse(l) as object), CreatedSince: '<time>' }));
    const out = await store.ok(['history', '--format', 'json', 'slipway-test/single:1.0']);
    assert.deepEqual(rows(out), rows(reference('history-single-format-json').stdout));
  });

  test('a loaded legacy-builder image: Docker\'s rows with <missing> for the parents the archive does not carry', async () => {
    // The reference engine built legacy itself, so it knew the parent images; a loaded image has no parents.
    const r = reference('history-legacy');
    const expected = normaliseTable(r.stdout);
    const lines = expected.split('\n');
    const withIds = [lines[0], ...lines.slice(1).map((l, i) => (l === '' ? l : (i === 0 ? legacyId.slice(7, 19).padEnd(15) : '<missing>'.padEnd(15)) + l.slice(15)))].join('\n');
    const out = await store.ok(['history', 'slipway-test/legacy:1']);
    assert.equal(normaliseTable(out), withIds);
    assert.equal(await store.ok(['history', '-q', 'slipway-test/legacy:1']), `${legacyId.slice(7, 19)}\n${'<missing>\n'.repeat(4)}`);
  });

  test('a missing image fails as history-missing.txt', async () => {
    const r = reference('history-missing');
    const res = await store.run(['history', 'nosuch']);
    assert.equal(res.stdout, '');
    assert.equal(res.stderr, asSlipway(r.stderr));
    assert.equal(res.status, r.exit);
  });
});

/**
 * `slipway images` on a store holding the Docker fixtures, compared with what
 * `docker images` printed for the same images (test/fixtures/reference).
 * The reference store held more images (legacy, imported, a registry tag):
 * their rows are left out of the expectation; relative times are masked and
 * rows Docker orders arbitrarily (same Created second, several repositories)
 * are put in one canonical order on both sides.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cliCommand, asSlipway, fixture, loadedStore, normaliseTable, reference, suiteStore, tempStore } from '../helpers/cli.js';

const ARCHIVES = ['docker-save-busybox.tar', 'docker-save-single.tar', 'docker-save-multi.tar', 'docker-save-by-id.tar'];
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

describe('images on the loaded fixtures', () => {
  const store = suiteStore();
  /** short ID -> Created (ms) of every image in the store. */
  const created = new Map<string, number>();
  before(async () => {
    await loadedStore(store, ARCHIVES);
    const out = await store.ok(['images', '-a', '--no-trunc', '--format', '{{.ID}}']);
    const ids = [...new Set(out.trim().split('\n'))];
    const times = await store.ok(['inspect', '-f', '{{.Id}} {{.Created}}', ...ids]);
    for (const line of times.trim().split('\n')) {
      const [id, at] = line.split(' ');
      created.set(short(id ?? ''), Date.parse(at ?? ''));
    }
  });
  const ours = (id: string | undefined) => created.has(short(id ?? ''));
  const keep = (row: Record<string, string>) => ours(row['IMAGE ID']) && !(row.REPOSITORY ?? '').startsWith('localhost:5000/');
  /** Newest first; same second: by ID; same image: by repository (tags of a repository keep their order). */
  const sortKey = (row: Record<string, string>) => {
    const id = short(row['IMAGE ID'] ?? '');
    return `${String(1e13 - Math.floor((created.get(id) ?? 0) / 1000)).padStart(14, '0')} ${id} ${row.REPOSITORY}`;
  };
  const tableOf = (text: string) => normaliseTable(text, { keep, sortKey });
  /** The reference's `localhost:5000/slipway-test/single:1.0` row, for outputs that do not show the repository: drop one. */
  const withoutRegistryRow = (text: string) => text.replace(/^eda48a51142c.*\n/m, '');

  const TABLES: [string[], string][] = [
    [['images'], 'images'],
    [['images', '-a'], 'images-a'],
    [['image', 'ls', '--digests'], 'images-digests'],
    [['images', '--no-trunc'], 'images-no-trunc'],
    [['images', '--filter', 'dangling=true'], 'images-filter-dangling'],
    [['images', '--filter', 'dangling=false'], 'images-filter-dangling-false'],
    [['images', '--filter', 'label=x=y'], 'images-filter-label'],
    [['images', '--filter', 'label=org.example.team'], 'images-filter-label-key'],
    [['images', '--filter', 'before=slipway-test/single:1.0'], 'images-filter-before'],
    [['images', '--filter', 'since=slipway-test/single:1.0'], 'images-filter-since'],
    [['images', '--filter', 'reference=slip*'], 'images-filter-reference-glob'],
    [['images', '--filter', 'reference=slipway-test/*'], 'images-filter-reference-repo-glob'],
    [['images', '--filter', 'reference=*/*:1'], 'images-filter-reference-tag'],
    [['images', 'slipway-test/single'], 'images-repo-arg'],
    [['images', 'slipway-test/single:1.0'], 'images-repo-tag-arg'],
    [['image', 'ls', 'busybox'], 'image-ls-busybox'],
    [['image', 'ls', 'slipway-test/busybox'], 'image-ls-slipway-busybox'],
  ];
  for (const [args, ref] of TABLES) {
    test(`${args.join(' ')} matches ${ref}.txt`, async () => {
      const r = reference(ref);
      const res = await store.run(args);
      assert.equal(res.stderr, '');
      assert.equal(res.status, 0);
      assert.equal(tableOf(res.stdout), tableOf(r.stdout));
    });
  }

  test('--format table of ID and size matches images-format-table-id-size.txt', async () => {
    const r = reference('images-format-table-id-size');
    const out = await store.ok(['images', '--format', 'table {{.ID}}\\t{{.Size}}']);
    assert.equal(tableOf(out), tableOf(withoutRegistryRow(r.stdout)));
  });

  test('--format with every field, as a table, matches images-format-all-fields.txt (CREATED AT absolute)', async () => {
    const args = ['images', '--format', 'table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.CreatedSince}}\\t{{.CreatedAt}}\\t{{.Size}}\\t{{.VirtualSize}}\\t{{.SharedSize}}\\t{{.UniqueSize}}\\t{{.Containers}}'];
    // This table has no IMAGE ID column: keep rows by what the reference shows for our images.
    const r = reference('images-format-all-fields');
    const oursByRepo = (row: Record<string, string>) => !(row.REPOSITORY ?? '').startsWith('localhost:5000/') && !['slipway-test/imported', 'slipway-test/legacy', 'slipway-test/base'].includes(row.REPOSITORY ?? '')
      && !(row.REPOSITORY === '<none>' && row['CREATED AT'] === '2026-11-23 08:29:27 +0000 UTC');
    const key = (row: Record<string, string>) => `${row['CREATED AT']} ${row.REPOSITORY} ${row.TAG}`;
    const res = await store.run(args);
    assert.equal(res.status, 0);
    assert.equal(normaliseTable(res.stdout, { sortKey: key }), normaliseTable(r.stdout, { keep: oursByRepo, sortKey: key }));
  });

  const JSON_CASES = [
    { format: 'json', ref: 'images-format-json', todo: undefined },
    // Go's json.Marshal escapes < > & as \u003c ...; the template `json` function (src/template) does not yet.
    { format: '{{json .}}', ref: 'images-format-json-dot', todo: undefined },
  ];
  for (const { format, ref, todo } of JSON_CASES) {
    test(`--format '${format}' prints one sorted-key JSON object per row as ${ref}.txt`, { todo }, async () => {
      const rows = (text: string) => text.trim().split('\n').map((l): Record<string, string> => {
        assert.ok(l.includes('\\u003cnone\\u003e') || !l.includes('<none>'), 'HTML characters escaped');
        const o = JSON.parse(l) as Record<string, string>;
        assert.deepEqual(Object.keys(o), [...Object.keys(o)].sort(), 'keys sorted');
        return { ...o, CreatedSince: '<time>' };
      }).filter((o) => ours(o.ID) && !(o.Repository ?? '').startsWith('localhost:5000/'))
        .sort((a, b) => `${a.CreatedAt} ${a.ID} ${a.Repository} ${a.Tag}`.localeCompare(`${b.CreatedAt} ${b.ID} ${b.Repository} ${b.Tag}`));
      const res = await store.run(['images', '--format', format]);
      assert.equal(res.status, 0);
      assert.deepEqual(rows(res.stdout), rows(reference(ref).stdout));
    });
  }

  test("--format '{{.Repository}}:{{.Tag}}' prints a plain line per row, no header", async () => {
    const res = await store.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    const expected = reference('images-format-json-dot').stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>)
      .filter((o) => ours(o.ID) && !(o.Repository ?? '').startsWith('localhost:5000/')).map((o) => `${o.Repository}:${o.Tag}`);
    assert.deepEqual(res.trim().split('\n').sort(), expected.sort());
  });

  for (const [args, ref] of [[['images', '-q'], 'images-q'], [['images', '-a', '-q'], 'images-aq']] as const) {
    test(`${args.join(' ')}: one ID per row, as ${ref}.txt`, async () => {
      const ids = (text: string) => text.trim().split('\n').filter((id) => ours(id)).sort();
      const out = await store.ok([...args]);
      assert.deepEqual(ids(out), ids(withoutRegistryRow(reference(ref).stdout)));
      assert.ok(out.trim().split('\n').every((l) => /^[0-9a-f]{12}$/.test(l)));
    });
  }

  test('rows come newest first, tags of one repository in lexical order', async () => {
    const out = await store.ok(['images', '--format', '{{.ID}} {{.Repository}} {{.Tag}}']);
    const rows = out.trim().split('\n').map((l) => l.split(' ') as [string, string, string]);
    const times = rows.map(([id]) => created.get(id) ?? NaN);
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    assert.deepEqual(rows.filter((r) => r[1] === 'slipway-test/single').map((r) => r[2]), ['1.0', 'latest']);
  });

  test('until= keeps images created before the given time', async () => {
    const all = await store.ok(['images', '-q']);
    assert.equal(await store.ok(['images', '-q', '--filter', 'until=2026-11-23T08:25:00Z']), 'abd4ffa074a5\n');
    assert.equal(await store.ok(['images', '-q', '--filter', 'until=2000-01-01T00:00:00Z']), '');
    assert.equal(await store.ok(['images', '-q', '--filter', 'until=1s']), all);
  });

  const ERRORS: [string[], string][] = [
    [['images', '--filter', 'bogus=1'], 'images-filter-bogus'],
    [['images', '--filter', 'dangling=maybe'], 'images-filter-dangling-bad'],
    [['images', '--format', '{{.Nope}}'], 'images-format-bad-field'],
    [['images', 'a', 'b'], 'images-two-args'],
    [['images', '--bogus'], 'images-bogus-flag'],
  ];
  // Go's parse errors carry no column (`template: :1: unclosed action`); slipway names the
  // column too (`:1:5:`), a deliberate difference listed in ARCHITECTURE.md.
  ERRORS.push([['images', '--format', '{{.ID'], 'images-format-parse-error']);
  const COLUMN: Record<string, number> = { 'images-format-parse-error': 5 };
  for (const [args, ref] of ERRORS) {
    test(`${args.join(' ')} fails as ${ref}.txt`, async () => {
      const r = reference(ref);
      const res = await store.run(args);
      const col = COLUMN[ref];
      const want = asSlipway(r.stderr).replace("SRun '", "Run '");
      assert.equal(res.stdout, r.stdout);
      assert.equal(res.stderr, col === undefined ? want : want.replace('template: :1: ', `template: :1:${col}: `));
      assert.equal(res.status, r.exit);
    });
  }
});

describe('images on an empty store', () => {
  test('prints the header only; -q prints nothing', async (t) => {
    const store = await tempStore(t);
    assert.equal(await store.ok(['images']), reference('images-empty').stdout);
    assert.equal(await store.ok(['images', '-q']), reference('images-empty-q').stdout);
  });
});

test('images into a pipe whose reader has gone (images | head -0) ends quietly with status 0', async (t) => {
  const store = await tempStore(t);
  await store.ok(['load', '-i', fixture('docker-save-busybox.tar')]);
  const child = spawn(...cliCommand(['--root', store.root, 'images']), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the read end closes before the command writes: its write gets EPIPE
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(stderr, '');
  assert.equal(status, 0);
});

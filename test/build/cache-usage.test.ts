/**
 * The build cache's "last used" bookkeeping as a user sees it: a cached
 * rebuild counts as a use (USAGE in `system df -v` goes up) and keeps its
 * records alive for `builder prune --filter until=…`, while records nobody
 * used since the cut-off are pruned.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, suiteStore } from '../helpers/cli.js';


/** USAGE column of every row of the build cache table of `system df -v`. */
function usageCounts(df: string): number[] {
  const rows = df.slice(df.indexOf('CACHE ID')).split('\n').slice(1).filter((l) => /^[a-f0-9]{25}\s/.test(l));
  return rows.map((l) => Number(l.trim().split(/\s{2,}/)[5]));
}

/** Makes every cache record look created and last used two days ago. */
function ageRecords(root: string): void {
  const dir = join(root, 'buildcache');
  const old = new Date(Date.now() - 48 * 3600_000).toISOString();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const rec = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, name), JSON.stringify({ ...rec, createdAt: old, lastUsedAt: old }));
  }
}

describe('slipway build: cache usage', () => {
  const store = suiteStore();
  const ctx = mkdtempSync(join(tmpdir(), 'slipway-cache-usage-'));
  before(async () => {
    await store.ok(['load', '-q', '-i', fixture('docker-save-busybox.tar')]);
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM slipway-test/busybox:latest\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\n');
    writeFileSync(join(ctx, 'a.txt'), 'a\n');
    writeFileSync(join(ctx, 'b.txt'), 'b\n');
  });

  test('a cached rebuild counts as a use in system df -v', async () => {
    await store.ok(['build', '-q', '-t', 'usage:1', ctx]);
    assert.deepEqual(usageCounts(await store.ok(['system', 'df', '-v'])), [1, 1]);
    await store.ok(['build', '-q', '-t', 'usage:1', ctx]);
    await store.ok(['build', '-q', '-t', 'usage:1', ctx]);
    assert.deepEqual(usageCounts(await store.ok(['system', 'df', '-v'])), [3, 3]);
  });

  test('builder prune --filter until keeps records used since, prunes the others', async () => {
    await store.ok(['rmi', 'usage:1']);
    await store.ok(['builder', 'prune', '-f', '--filter', 'until=1000h']); // prunes nothing, folds the log into the records
    ageRecords(store.root);
    // Rebuild only the first step's input unchanged: change b.txt so its step is new, a's is a use.
    writeFileSync(join(ctx, 'b.txt'), 'b changed\n');
    await store.ok(['build', '-q', '-t', 'usage:2', ctx]);
    await store.ok(['rmi', 'usage:2']);
    ageRecords(store.root); // the usage log, not the records, must carry the recent use of a's step
    const out = await store.ok(['builder', 'prune', '-f', '--filter', 'until=24h']);
    assert.equal(out.split('\n').filter((l) => /^[a-f0-9]{25}$/.test(l)).length, 2, `both COPY b.txt records go:\n${out}`);
    const left = usageCounts(await store.ok(['system', 'df', '-v']));
    assert.deepEqual(left, [4], 'only the COPY a.txt record (3 uses + 1) is left');
  });
});

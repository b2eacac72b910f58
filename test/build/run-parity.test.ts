/**
 * RUN against Docker 20.10 (BuildKit): a RUN-heavy multi-stage build whose
 * layers (whiteouts, opaque directories, hard links, mount-point stubs,
 * owners and modes) list with GNU tar exactly as the layers Docker built
 * from the same Dockerfile (test/runtime/fixtures/multistage/layers-docker*.txt,
 * recorded with `tar -tvv --numeric-owner`, dates normalised), and whose
 * history texts are BuildKit's (`RUN |1 GREETING=hello /bin/sh -c ...`).
 * Needs root and runc (skipped otherwise).
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, loadedStore, suiteStore } from '../helpers/cli.js';
import { readImage } from './helpers.js';

const CASE = join(REPO, 'test', 'runtime', 'fixtures', 'multistage');
const canRun = process.getuid?.() === 0 && ['/usr/sbin/runc', '/usr/bin/runc'].some((p) => existsSync(p));

/** Listing of every layer as the fixture records it: `== <history>` then tar lines with dates replaced by DATE. */
function listing(root: string, ref: string): string {
  const img = readImage(root, ref);
  const history = img.config.history.filter((h) => !h.empty_layer);
  let out = '';
  img.layerFiles.forEach((file, i) => {
    out += `== ${String(history[i]?.created_by)}\n`;
    const tar = execFileSync('tar', ['-tvv', '--numeric-owner', '-f', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
    for (const line of tar.split('\n')) if (line) out += `${line.replace(/ (?!1970-01-01 00:00)\d{4}-\d\d-\d\d \d\d:\d\d /, ' DATE ')}\n`;
  });
  return out;
}

describe('RUN layers match Docker BuildKit', { skip: canRun ? false : 'needs root and runc' }, () => {
  const store = suiteStore();
  before(async () => {
    await loadedStore(store, ['docker-save-busybox.tar']);
    await store.ok(['build', '-q', '-t', 'ms:latest', CASE]);
    await store.ok(['build', '-q', '--target', 'second', '-t', 'ms:second', CASE]);
  });

  for (const [ref, file] of [['ms:latest', 'layers-docker.txt'], ['ms:second', 'layers-docker-second.txt']] as const) {
    test(`${ref}: every layer as Docker wrote it (${file})`, () => {
      const expected = readFileSync(join(CASE, file), 'utf8');
      assert.equal(listing(store.root, `docker.io/library/${ref}`), expected);
    });
  }

  test('ARG values are in the history prefix but not in the image config', () => {
    const img = readImage(store.root, 'docker.io/library/ms:second');
    const env = (img.config.config.Env as string[]).join('\n');
    assert.doesNotMatch(env, /GREETING/);
    assert.match(env, /^APP=\/app$/m);
    assert.ok(img.config.history.some((h) => h.created_by === 'RUN |1 GREETING=hello /bin/sh -c mkdir -p /opt/old/sub && echo x > /opt/old/sub/x && echo y > /opt/old/y && echo keep > /opt/keep # buildkit'));
  });

  test('a rebuild takes every RUN from the cache and gives the same image', async () => {
    const before = readImage(store.root, 'docker.io/library/ms:latest').id;
    const r = await store.run(['build', '--progress', 'plain', '-t', 'ms:again', CASE]);
    assert.equal(r.status, 0, r.stderr);
    const runs = [...r.stderr.matchAll(/^#(\d+) \[[^\]]+\] RUN /gm)].map((m) => m[1]);
    const cached = new Set([...r.stderr.matchAll(/^#(\d+) CACHED$/gm)].map((m) => m[1]));
    assert.equal(runs.length, 11);
    assert.deepEqual(runs.filter((id) => !cached.has(id)), [], 'every RUN step is CACHED');
    assert.equal(readImage(store.root, 'docker.io/library/ms:again').id, before);
  });
});

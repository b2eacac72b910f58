/**
 * A real Docker engine, when one answers `docker info`: `slipway save`
 * output loads there with the same image IDs, tags and layer diff IDs.
 * Skipped (with the reason) where there is no engine, as in CI.
 * Only tags named slipway-test/engine-check* are created in the engine, and
 * they are removed afterwards; images it already had are left alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadedStore, tempStore } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const DOCKER = process.env.SLIPWAY_TEST_DOCKER ?? 'docker';
const info = spawnSync(DOCKER, ['info'], { stdio: 'ignore', timeout: 20000 });
const noEngine = info.status === 0 ? false : `no Docker engine answers "${DOCKER} info" (start one with scripts/reference-docker.sh)`;

test('slipway save loads in Docker with the same IDs, tags and diff IDs', { skip: noEngine }, async (t) => {
  const store = await loadedStore(await tempStore(t), ['docker-save-single.tar', 'docker-save-multi.tar']);
  const tags = ['slipway-test/engine-check-single:1', 'slipway-test/engine-check-a:1', 'slipway-test/engine-check-b:1'];
  const sources = ['slipway-test/single:1.0', 'slipway-test/app-a:1', 'slipway-test/app-b:1'];
  for (const [i, tag] of tags.entries()) await store.ok(['tag', sources[i] as string, tag]);
  const file = join(await tempDir(t), 'engine.tar');
  await store.ok(['save', '-o', file, ...tags]);
  t.after(() => spawnSync(DOCKER, ['rmi', ...tags], { stdio: 'ignore' }));

  const loaded = execFileSync(DOCKER, ['load', '-i', file]).toString();
  const lines = loaded.trim().split('\n').filter((l) => l.startsWith('Loaded image'));
  assert.deepEqual(lines.sort(), tags.map((n) => `Loaded image: ${n}`).sort());
  for (const tag of tags) {
    const inDocker = execFileSync(DOCKER, ['image', 'inspect', '-f', '{{.Id}} {{.RootFS.Layers}}', tag]).toString();
    const inSlipway = await store.ok(['image', 'inspect', '-f', '{{.Id}} {{.RootFS.Layers}}', tag]);
    assert.equal(inDocker, inSlipway, tag);
    if (process.env.SLIPWAY_TEST_VERBOSE) process.stdout.write(`# docker: ${tag} ${inDocker}`);
  }
});

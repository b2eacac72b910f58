/**
 * Pulls that move several layers at once (3 at a time, Docker's default):
 * gzip and uncompressed layers together, their diff IDs hashed on the
 * worker thread concurrently; layers queued behind the limit say
 * "Waiting"; a layer whose content or diff ID is wrong fails the pull with
 * no image, no half-written file and no blob of the wrong content; gc
 * removes the layer records of layers it deleted. Also
 * the gzip that push writes: deterministic, readable by GNU gzip, and
 * incompressible blocks stored instead of deflated.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { gzipBlocks, looksIncompressible } from '../../src/registry/gzip-blocks.js';
import { pullImage } from '../../src/registry/pull.js';
import { parseReference } from '../../src/oci/reference.js';
import { ImageStore } from '../../src/store/image-store.js';
import { cleanupAfterSuite, makeClient, suiteDir } from './servers.js';
import { corruptBlobs, makeImage, startFakeRegistry } from './fake-registry.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const SIZES = [300_000, 1_500_000, 2_500_000, 700_000, 3_000_000];
const PLAIN = [1, 3];

function dirNames(root: string, sub: string): string[] {
  const dir = join(root, sub);
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('concurrent layer pulls (fake registry)', () => {
  cleanupAfterSuite();

  test('five layers, gzip and uncompressed, three at a time: the image arrives whole; queued layers say Waiting', async () => {
    const image = makeImage(suiteDir('slipway-conc-'), SIZES, { plain: PLAIN });
    const reg = await startFakeRegistry(image);
    const c = makeClient();
    const out = await c.ok(['pull', `${reg.host}/conc/app:latest`]);
    const ids = image.layers.map((l) => l.digest.slice(7, 19));
    for (const id of ids) assert.match(out, new RegExp(`^${id}: Pull complete$`, 'm'));
    // Layers 4 and 5 wait for one of the first three to finish.
    assert.deepEqual([...out.matchAll(/^(\w{12}): Waiting$/gm)].map((m) => m[1]), ids.slice(3));
    assert.equal((await c.ok(['inspect', '-f', '{{.Id}}', `${reg.host}/conc/app`])).trim(), image.configDigest);
    // Every layer is stored uncompressed under its diff ID, and nothing is left in ingest.
    const config = JSON.parse((image.blobs.get(image.configDigest) as Buffer).toString()) as { rootfs: { diff_ids: string[] } };
    const blobs = dirNames(c.root, 'blobs/sha256');
    for (const d of config.rootfs.diff_ids) assert.ok(blobs.includes(d.slice(7)), `layer ${d} stored`);
    assert.deepEqual(corruptBlobs(c.root, blobs), []);
    assert.deepEqual(dirNames(c.root, 'ingest'), []);
    // An uncompressed layer's blob is the bytes the registry sent.
    for (const i of PLAIN) assert.ok(blobs.includes((image.layers[i]?.digest ?? '').slice(7)));
    // The pull recorded each layer's compressed form; removing the image removes the layers and their records.
    assert.equal(dirNames(c.root, 'registry/layers').length, SIZES.length);
    await c.ok(['rmi', `${reg.host}/conc/app`]);
    assert.deepEqual(dirNames(c.root, 'blobs/sha256'), []);
    assert.deepEqual(dirNames(c.root, 'registry/layers'), []);
  });

  test('the smallest slot budget (4 per download) still moves five multi-MiB layers, three at a time, gzip and uncompressed', { timeout: 60_000 }, async () => {
    // Each download fills only its own slots: a tar scan that keeps its last
    // chunks, or zlib waiting for a slot to hash into, cannot starve the
    // others. With one ring of 9 slots shared by the three downloads, this
    // pull stalled for ever (and the CLI, with nothing left to wait on, exited 0).
    const image = makeImage(suiteDir('slipway-slots-'), [20_000_000, 20_000_000, 20_000_000, 8_000_000, 8_000_000], { plain: [0, 1, 2] });
    const reg = await startFakeRegistry(image);
    const config = JSON.parse((image.blobs.get(image.configDigest) as Buffer).toString()) as { rootfs: { diff_ids: string[] } };
    // With direct I/O (the default where the filesystem takes it) and with ordinary writes.
    for (const directIo of [undefined, '0']) {
      const saved = process.env.SLIPWAY_DIRECT_IO;
      if (directIo === undefined) delete process.env.SLIPWAY_DIRECT_IO;
      else process.env.SLIPWAY_DIRECT_IO = directIo;
      try {
        const root = suiteDir('slipway-slots-store-');
        const result = await pullImage({ store: new ImageStore(root), ref: parseReference(`${reg.host}/slots/app:latest`), concurrency: 3, slotsPerLayer: 4, credentials: null });
        assert.equal(result.id, image.configDigest);
        const blobs = dirNames(root, 'blobs/sha256');
        for (const d of config.rootfs.diff_ids) assert.ok(blobs.includes(d.slice(7)), `layer ${d} stored`);
        assert.deepEqual(corruptBlobs(root, blobs), []);
        assert.deepEqual(dirNames(root, 'ingest'), []);
      } finally {
        if (saved === undefined) delete process.env.SLIPWAY_DIRECT_IO;
        else process.env.SLIPWAY_DIRECT_IO = saved;
      }
    }
  });

  test('an uncompressed layer with altered content fails the pull: no image, no blob of the altered bytes', async () => {
    const image = makeImage(suiteDir('slipway-conc-'), SIZES, { plain: PLAIN });
    const reg = await startFakeRegistry(image);
    const layer = image.layers[3] as { digest: string; bytes: Buffer };
    const altered = Buffer.from(layer.bytes);
    altered[2000] = (altered[2000] as number) ^ 0xff; // inside the file's data: still a valid tar
    reg.faults = { replaceBlob: { digest: layer.digest, bytes: altered } };
    const c = makeClient();
    const r = await c.run(['pull', `${reg.host}/conc/app:latest`]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`layer ${layer.digest}: (its uncompressed content has digest ${sha(altered)}|the registry sent content with digest ${sha(altered)}, expected ${layer.digest})`));
    assert.equal((await c.ok(['images', '-aq'])).trim(), '');
    // Layers cancelled midway may keep their partial downloads (never blobs); the altered one keeps nothing.
    assert.deepEqual(dirNames(c.root, 'ingest').filter((n) => !/^[a-f0-9]{64}\.partial$/.test(n) || n.startsWith(layer.digest.slice(7))), []);
    const blobs = dirNames(c.root, 'blobs/sha256');
    assert.ok(!blobs.includes(sha(altered).slice(7)), 'the altered layer is not stored');
    assert.deepEqual(corruptBlobs(c.root, blobs), []);
    // Run again against an honest registry: it completes, fetching only what is missing.
    reg.faults = {};
    await c.ok(['pull', '-q', `${reg.host}/conc/app:latest`]);
    assert.equal((await c.ok(['inspect', '-f', '{{.Id}}', `${reg.host}/conc/app`])).trim(), image.configDigest);
  });

  test('a config whose diff ID does not match a gzip layer fails the pull and stores no image', async () => {
    const image = makeImage(suiteDir('slipway-conc-'), SIZES, { plain: PLAIN, wrongDiffId: 2 });
    const reg = await startFakeRegistry(image);
    const c = makeClient();
    const r = await c.run(['pull', `${reg.host}/conc/app:latest`]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`layer ${image.layers[2]?.digest}: its uncompressed content has digest sha256:\\w+, but the image config says sha256:\\w+`));
    assert.equal((await c.ok(['images', '-aq'])).trim(), '');
    // Layers cancelled midway keep their partial downloads (ingest/<hex>.partial, never blobs); the wrong one keeps nothing.
    assert.deepEqual(dirNames(c.root, 'ingest').filter((n) => !/^[a-f0-9]{64}\.partial$/.test(n) || n.startsWith((image.layers[2]?.digest ?? '').slice(7))), []);
    assert.deepEqual(corruptBlobs(c.root, dirNames(c.root, 'blobs/sha256')), []);
  });
});

async function gzipOf(data: Buffer, pieces: number): Promise<Buffer> {
  const step = Math.ceil(data.length / pieces);
  const chunks = Array.from({ length: pieces }, (_, i) => data.subarray(i * step, (i + 1) * step)).filter((b) => b.length > 0);
  const out: Buffer[] = [];
  for await (const c of gzipBlocks(Readable.from(chunks), { level: 6 }) as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

describe('push gzip (stored blocks for incompressible data)', () => {
  const text = Buffer.from(Array.from({ length: 60_000 }, (_, i) => `line ${i % 997} of a fairly repetitive file\n`).join(''));
  const random = randomBytes(3 << 20);
  const mixed = Buffer.concat([text.subarray(0, 1 << 20), random, text]);

  test('the same bytes give the same gzip however they arrive, and gunzip gives them back', async () => {
    const a = await gzipOf(mixed, 1);
    const b = await gzipOf(mixed, 37);
    assert.equal(sha(a), sha(b));
    assert.ok(gunzipSync(a).equals(mixed));
    execFileSync('gzip', ['-t'], { input: a }); // GNU gzip accepts it (CRC and length trailer)
    assert.deepEqual([...a.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  });

  test('random blocks are stored, text is deflated', async () => {
    assert.equal(looksIncompressible(random.subarray(0, 1 << 20)), true);
    assert.equal(looksIncompressible(text.subarray(0, 1 << 20)), false);
    const r = await gzipOf(random, 3);
    assert.ok(r.length < random.length * 1.001, `random: ${r.length} bytes for ${random.length}`);
    const t = await gzipOf(text, 2);
    assert.ok(t.length < text.length / 5, `text: ${t.length} bytes for ${text.length}`);
    assert.ok(gunzipSync(r).equals(random) && gunzipSync(t).equals(text));
  });

  test('an empty layer still gives a valid gzip stream', async () => {
    const e = await gzipOf(Buffer.alloc(0), 1);
    assert.equal(gunzipSync(e).length, 0);
  });
});

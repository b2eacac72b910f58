/**
 * `slipway load` on corrupt, truncated and malicious archives: each fails
 * with a message naming the file and the problem, a non-zero exit, and the
 * store byte-for-byte as it was (no new blob visible, no tag moved).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture, loadedStore, storeListing, suiteStore } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { tarOf } from './tar-of.js';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Options of dockerArchive: what to break. */
interface ArchiveSpec {
  /** The layer tars the config's diff_ids are computed from. */
  layers: Buffer[];
  /** The layer bytes actually stored (default: the same). */
  stored?: Buffer[];
  /** Extra layer paths named in manifest.json. */
  extraLayerPaths?: string[];
  /** Store the config under this hex instead of its digest. */
  configName?: string;
}

/** A docker-archive (Docker 20.10 layout) tagged slipway-test/bad:1. */
function dockerArchive(spec: ArchiveSpec): Buffer {
  const diffIds = spec.layers.map((l) => `sha256:${sha256(l)}`);
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } });
  const configName = `${spec.configName ?? sha256(config)}.json`;
  const layerPaths = spec.layers.map((_, i) => `layer${i}/layer.tar`);
  const manifest = JSON.stringify([{ Config: configName, RepoTags: ['slipway-test/bad:1'], Layers: [...layerPaths, ...(spec.extraLayerPaths ?? [])] }]);
  return tarOf([
    ...(spec.stored ?? spec.layers).map((l, i) => ({ name: layerPaths[i] as string, body: l })),
    { name: configName, body: config },
    { name: 'manifest.json', body: manifest },
  ]);
}

const goodLayer = tarOf([{ name: 'etc/', type: '5' }, { name: 'etc/hello.txt', body: 'hello world\n' }]);
const flipped = Buffer.from(goodLayer);
flipped.writeUInt8((flipped.readUInt8(512 + 512 + 3) ^ 0xff), 512 + 512 + 3); // a byte of hello.txt's content: still a valid tar, other digest

const single = readFileSync(fixture('docker-save-single.tar'));

interface Case {
  name: string;
  input: Buffer | 'missing';
  /** Feed on stdin instead of -i FILE. */
  stdin?: boolean;
  /** What stderr must say (the file or entry and the problem). */
  error: RegExp;
}

const CASES: Case[] = [
  { name: 'truncated archive', input: single.subarray(0, 10000), error: /bad\.tar: .*layer\.tar.*unexpected end of archive/ },
  { name: 'truncated archive on stdin', input: single.subarray(0, 10000), stdin: true, error: /stdin: .*unexpected end of archive/ },
  { name: 'corrupt layer bytes (diff ID mismatch)', input: dockerArchive({ layers: [goodLayer], stored: [flipped] }), error: /bad\.tar: layer layer0\/layer\.tar has diff ID sha256:[0-9a-f]{64}, but the image config expects sha256:[0-9a-f]{64}/ },
  { name: 'manifest naming a missing layer', input: dockerArchive({ layers: [goodLayer], extraLayerPaths: ['nosuch/layer.tar'] }), error: /bad\.tar: .*"nosuch\/layer\.tar" is not in the archive/ },
  { name: 'config whose name is not its digest', input: dockerArchive({ layers: [goodLayer], configName: 'a'.repeat(64) }), error: /bad\.tar: config a{64}\.json has digest sha256:[0-9a-f]{64}, not the one its name promises/ },
  { name: 'layer entry ../evil', input: dockerArchive({ layers: [tarOf([{ name: '../evil', body: 'x' }])] }), error: /bad\.tar: .*"\.\.\/evil"/ },
  { name: 'layer entry /etc/evil (absolute)', input: dockerArchive({ layers: [tarOf([{ name: '/etc/evil', body: 'x' }])] }), error: /bad\.tar: .*"\/etc\/evil"/ },
  {
    name: 'symlink escaping the root, then a file through it',
    input: dockerArchive({ layers: [tarOf([{ name: 'escape', type: '2', linkname: '../../..' }, { name: 'escape/evil', body: 'x' }])] }),
    error: /bad\.tar: .*escape/,
  },
  { name: 'hardlink to ../../x', input: dockerArchive({ layers: [tarOf([{ name: 'x', type: '1', linkname: '../../x' }])] }), error: /bad\.tar: layer layer0\/layer\.tar: entry "x": hard link target escapes/ },
  { name: 'non-tar input', input: Buffer.from('this is not a tar archive, just some text\n'.repeat(30)), error: /bad\.tar: / },
  { name: 'non-tar input on stdin', input: Buffer.from('hello\n'), stdin: true, error: /stdin: / },
  { name: 'empty input on stdin', input: Buffer.alloc(0), stdin: true, error: /stdin: / },
  { name: '-i nosuch.tar', input: 'missing', error: /^open nosuch\.tar: no such file or directory\n$/ },
];

describe('load of bad input fails and leaves the store exactly as before', () => {
  const store = suiteStore();
  let listing: string[];
  let images: string;
  before(async () => {
    await loadedStore(store, ['docker-save-single.tar', 'docker-save-by-id.tar']);
    listing = await storeListing(store.root);
    images = await store.ok(['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}} {{.CreatedAt}} {{.Size}}']);
  });

  for (const c of CASES) {
    test(c.name, async (t) => {
      const dir = await tempDir(t);
      const file = join(dir, 'bad.tar');
      let res;
      if (c.input === 'missing') {
        res = await store.run(['load', '-i', 'nosuch.tar']);
      } else if (c.stdin) {
        res = await store.run(['load'], c.input);
      } else {
        await writeFile(file, c.input);
        res = await store.run(['load', '-i', file]);
      }
      assert.notEqual(res.status, 0, 'non-zero exit');
      assert.equal(res.stdout, '', 'nothing reported as loaded');
      assert.match(res.stderr, c.error);
      assert.deepEqual(await storeListing(store.root), listing, 'no blob, tag or leftover file appeared');
      assert.equal(await store.ok(['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}} {{.CreatedAt}} {{.Size}}']), images);
    });
  }
});

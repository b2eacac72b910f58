/**
 * `slipway inspect` / `image inspect` on the loaded fixtures against what
 * Docker printed for the same images (test/fixtures/reference/inspect-*.txt).
 *
 * Engine-specific fields are left out of the comparison, explicitly:
 * - GraphDriver (overlay2 directories of the reference engine),
 * - Metadata.LastTagTime (when the reference engine tagged the image),
 * - the reference store's registry name and digest for single
 *   (`localhost:5000/slipway-test/single:1.0` in RepoTags, its RepoDigests
 *   entry): there is no registry push here.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { asSlipway, loadedStore, reference, suiteStore } from '../helpers/cli.js';

type Doc = Record<string, unknown>;

const REGISTRY_TAG = 'localhost:5000/slipway-test/single:1.0';
const REGISTRY_DIGEST = 'localhost:5000/slipway-test/single@sha256:6b41ced700d279570c0bd94f9648408dbf8e0fa5b181fdffd154ecc527a0a933';

/** A document with the engine-specific fields removed (see the file comment). */
function comparable(doc: Doc): Doc {
  const out = { ...doc };
  delete out.GraphDriver;
  out.Metadata = { ...(out.Metadata as Doc), LastTagTime: '<engine>' };
  out.RepoTags = (out.RepoTags as string[]).filter((t) => t !== REGISTRY_TAG);
  out.RepoDigests = (out.RepoDigests as string[]).filter((t) => t !== REGISTRY_DIGEST);
  return out;
}

/** Asserts equal values and equal key order, naming the key path that differs. */
function assertSameDoc(actual: unknown, expected: unknown, path = ''): void {
  if (expected && typeof expected === 'object' && !Array.isArray(expected)) {
    assert.ok(actual && typeof actual === 'object' && !Array.isArray(actual), `${path}: an object`);
    assert.deepEqual(Object.keys(actual), Object.keys(expected), `${path}: keys and their order`);
    for (const k of Object.keys(expected)) assertSameDoc((actual as Doc)[k], (expected as Doc)[k], `${path}.${k}`);
  } else {
    assert.deepEqual(actual, expected, path);
  }
}

/** Removes the registry name and digest from a template's output for single. */
function withoutRegistry(text: string): string {
  return text.replace(` ${REGISTRY_TAG}`, '').replace(`,"${REGISTRY_TAG}"`, '').replace(`[${REGISTRY_DIGEST}]`, '[]')
    .replace(`["${REGISTRY_DIGEST}"]`, '[]');
}

describe('inspect on the loaded fixtures', () => {
  const store = suiteStore();
  before(() => loadedStore(store, ['docker-save-busybox.tar', 'docker-save-single.tar', 'docker-save-multi.tar', 'docker-save-by-id.tar']));

  const FULL: [string[], string][] = [
    [['inspect', 'slipway-test/single:1.0'], 'inspect-single'],
    [['image', 'inspect', 'slipway-test/single:1.0'], 'image-inspect-single'],
    [['image', 'inspect', 'slipway-test/busybox:latest'], 'inspect-busybox'],
    [['image', 'inspect', 'bfc0bce35b92'], 'inspect-by-short-id'],
    [['image', 'inspect', 'slipway-test/app-a:1', 'slipway-test/app-b:1'], 'inspect-two'],
  ];
  for (const [args, ref] of FULL) {
    test(`${args.join(' ')}: Docker's JSON (${ref}.txt) field by field, in Docker's order, 4-space indent`, async () => {
      const r = reference(ref);
      const res = await store.run(args);
      assert.equal(res.status, 0);
      assert.equal(res.stderr, '');
      const actual = JSON.parse(res.stdout) as Doc[];
      const expected = JSON.parse(r.stdout) as Doc[];
      assert.equal(actual.length, expected.length);
      actual.forEach((doc, i) => assertSameDoc(comparable(doc), comparable(expected[i] as Doc), `[${i}]`));
      assert.equal(res.stdout, `${JSON.stringify(actual, null, 4)}\n`);
    });
  }

  test('--format json prints the array on one line (inspect-format-json.txt)', async () => {
    const res = await store.run(['image', 'inspect', '--format', 'json', 'slipway-test/busybox:latest']);
    assert.equal(res.status, 0);
    assert.equal(res.stdout.split('\n').length, 2, 'one line');
    const actual = JSON.parse(res.stdout) as Doc[];
    const expected = JSON.parse(reference('inspect-format-json').stdout) as Doc[];
    assertSameDoc(actual.map(comparable), expected.map(comparable));
  });

  const TEMPLATES = [
    'inspect-f-cmd-entrypoint', 'inspect-f-env', 'inspect-f-exposed', 'inspect-f-index-label', 'inspect-f-labels',
    'inspect-f-layers', 'inspect-f-nil-values', 'inspect-f-container-config', 'inspect-f-json-config', 'inspect-f-misc',
    'inspect-f-range', 'inspect-f-json-repotags', 'inspect-f-foo', 'image-inspect-f-foo',
    'inspect-f-parse-error-brace', 'inspect-f-parse-error-unclosed',
  ];
  for (const ref of TEMPLATES) {
    const r = reference(ref);
    // The recorded command line: docker [image] inspect -f 'TEMPLATE' IMAGE
    const m = /^docker (image inspect|inspect) -f '(.*)' (\S+)$/.exec(r.command);
    assert.ok(m, r.command);
    const [, cmd, template, image] = m as unknown as [string, string, string, string];
    // Parse errors also name the column (a deliberate difference from Go, see ARCHITECTURE.md).
    const col = { 'inspect-f-parse-error-brace': 11, 'inspect-f-parse-error-unclosed': 13 }[ref as string];
    test(`-f '${template}' prints what ${ref}.txt shows`, async () => {
      const res = await store.run([...cmd.split(' '), '-f', template, image]);
      assert.equal(res.stdout, withoutRegistry(r.stdout));
      assert.equal(res.stderr, col === undefined ? r.stderr : r.stderr.replace('template: :1: ', `template: :1:${col}: `));
      assert.equal(res.status, r.exit);
    });
  }

  test('a template that does not parse exits 64 with "template parsing error" and prints nothing', async () => {
    for (const tmpl of ['{{ .Config }', '{{.Config.Env']) {
      const res = await store.run(['inspect', '-f', tmpl, 'slipway-test/single:1.0']);
      assert.equal(res.status, 64);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /^template parsing error: template: :1(:\d+)?: (unclosed action|unexpected "}" in operand)\n$/);
    }
  });

  test('-f runs once per image, one line each', async () => {
    const out = await store.ok(['inspect', '-f', '{{.Id}} {{.Size}}', 'slipway-test/app-a:1', 'slipway-test/app-b:1', 'bfc0bce35b92']);
    assert.equal(out, [
      'sha256:cfccf37a6f3396bd96d1d678d0898093d9d761ed9610919af1bb8d83bb9d7616 24',
      'sha256:5e4702828072110bc41f75ef03f6158c2d41eaa45c793f3962d576e42871dd03 24',
      'sha256:bfc0bce35b92c8e45ba2ff40037edfe93f45353679508c4a22d0dd0dd98344d5 26', ''].join('\n'));
  });

  const MISSING: [string[], string][] = [
    [['inspect', 'nosuch'], 'inspect-missing'],
    [['image', 'inspect', 'nosuch'], 'image-inspect-missing'],
  ];
  for (const [args, ref] of MISSING) {
    test(`${args.join(' ')}: [] and the error of ${ref}.txt`, async () => {
      const r = reference(ref);
      const res = await store.run(args);
      assert.equal(res.stdout, r.stdout);
      assert.equal(res.stderr, asSlipway(r.stderr));
      assert.equal(res.status, r.exit);
    });
  }

  test('image inspect of one present and one missing image prints the present one, then the error (image-inspect-one-missing.txt)', async () => {
    const r = reference('image-inspect-one-missing');
    const res = await store.run(['image', 'inspect', 'slipway-test/app-a:1', 'nosuch']);
    const alone = await store.ok(['image', 'inspect', 'slipway-test/app-a:1']);
    assert.equal(res.stdout, alone);
    assert.equal(res.stderr, asSlipway(r.stderr));
    assert.equal(res.status, 1);
  });
});

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseRawReference, parseReference, parseAnyReference, parseDockerRef, fullName, familiarName,
  familiarString, referenceString, withDefaultTag, withTag, registryHost, matchReferencePattern,
  goPathMatch, isImageId, isImageIdPrefix, validateDigest,
} from '../../src/oci/reference.js';
import { SlipwayError } from '../../src/errors.js';

const F64 = 'f'.repeat(64);
const D = `sha256:${F64}`;

function throwsMessage(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SlipwayError, 'a SlipwayError');
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.equal(err.message, message);
    return true;
  });
}

// distribution/reference reference_test.go TestReferenceParse
describe('parseRawReference (reference.Parse)', () => {
  const ok: Array<[string, string, string, string?, string?]> = [
    // input, domain, name, tag, digest
    ['test_com', '', 'test_com'],
    ['test.com:tag', '', 'test.com', 'tag'],
    ['test.com:5000', '', 'test.com', '5000'],
    ['test.com/repo:tag', 'test.com', 'test.com/repo', 'tag'],
    ['test:5000/repo', 'test:5000', 'test:5000/repo'],
    ['test:5000/repo:tag', 'test:5000', 'test:5000/repo', 'tag'],
    [`test:5000/repo@${D}`, 'test:5000', 'test:5000/repo', undefined, D],
    [`test:5000/repo:tag@${D}`, 'test:5000', 'test:5000/repo', 'tag', D],
    ['lowercase:Uppercase', '', 'lowercase', 'Uppercase'],
    [`${'a/'.repeat(127)}a:tag-puts-this-over-max`, 'a', `${'a/'.repeat(127)}a`, 'tag-puts-this-over-max'],
    ['sub-dom1.foo.com/bar/baz/quux', 'sub-dom1.foo.com', 'sub-dom1.foo.com/bar/baz/quux'],
    ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com', 'sub-dom1.foo.com/bar/baz/quux', 'some-long-tag'],
    ['b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io', 'b.gcr.io/test.example.com/my-app', 'test.example.com'],
    ['xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com', 'xn--n3h.com/myimage', 'xn--n3h.com'],
    [`xn--7o8h.com/myimage:xn--7o8h.com@sha512:${'f'.repeat(128)}`, 'xn--7o8h.com', 'xn--7o8h.com/myimage', 'xn--7o8h.com', `sha512:${'f'.repeat(128)}`],
    ['foo_bar.com:8080', '', 'foo_bar.com', '8080'],
    ['foo/foo_bar.com:8080', 'foo', 'foo/foo_bar.com', '8080'],
    ['192.168.1.1', '', '192.168.1.1'],
    ['192.168.1.1:tag', '', '192.168.1.1', 'tag'],
    ['192.168.1.1:5000', '', '192.168.1.1', '5000'],
    ['192.168.1.1/repo', '192.168.1.1', '192.168.1.1/repo'],
    ['192.168.1.1:5000/repo', '192.168.1.1:5000', '192.168.1.1:5000/repo'],
    ['192.168.1.1:5000/repo:5050', '192.168.1.1:5000', '192.168.1.1:5000/repo', '5050'],
    ['[2001:db8::1]/repo', '[2001:db8::1]', '[2001:db8::1]/repo'],
    ['[2001:db8:1:2:3:4:5:6]/repo:tag', '[2001:db8:1:2:3:4:5:6]', '[2001:db8:1:2:3:4:5:6]/repo', 'tag'],
    ['[2001:db8::1]:5000/repo', '[2001:db8::1]:5000', '[2001:db8::1]:5000/repo'],
    ['[2001:db8::1]:5000/repo:tag', '[2001:db8::1]:5000', '[2001:db8::1]:5000/repo', 'tag'],
    [`[2001:db8::1]:5000/repo:tag@${D}`, '[2001:db8::1]:5000', '[2001:db8::1]:5000/repo', 'tag', D],
    ['[2001:db8::]:5000/repo', '[2001:db8::]:5000', '[2001:db8::]:5000/repo'],
    ['[::1]:5000/repo', '[::1]:5000', '[::1]:5000/repo'],
  ];
  for (const [input, domain, name, tag, digest] of ok) {
    test(input, () => {
      const ref = parseRawReference(input);
      assert.equal(ref.domain, domain);
      assert.equal(fullName(ref), name);
      assert.equal(ref.tag, tag);
      assert.equal(ref.digest, digest);
      assert.equal(referenceString(ref), input);
    });
  }
  const bad: Array<[string, string]> = [
    ['', 'repository name must have at least one component'],
    [':justtag', 'invalid reference format'],
    [`@${D}`, 'invalid reference format'],
    ['repo@sha256:ffffffffffffffffffffffffffffffffff', 'invalid checksum digest length'],
    [`validname@invaliddigest:${F64}`, 'unsupported digest algorithm'],
    ['Uppercase:tag', 'repository name must be lowercase'],
    ['test:5000/Uppercase/lowercase:tag', 'repository name must be lowercase'],
    // Current distribution/reference counts the path only (domain 'a' + 256-char path here).
    [`${'a/'.repeat(128)}aa:tag`, 'repository name must not be more than 255 characters'],
    ['aa/asdf$$^/aa', 'invalid reference format'],
    ['[2001:db8::1]', 'invalid reference format'],
    ['[2001:db8::1]:5000', 'invalid reference format'],
    ['[2001:db8::1]:tag', 'invalid reference format'],
    ['[fe80::1%eth0]:5000/repo', 'invalid reference format'],
    ['[fe80::1%@invalidzone]:5000/repo', 'invalid reference format'],
  ];
  for (const [input, message] of bad) {
    test(`rejects ${JSON.stringify(input)}`, () => throwsMessage(() => parseRawReference(input), message));
  }
});

// normalize_test.go TestValidateReferenceName / TestValidateRemoteName
describe('parseReference validity', () => {
  const valid = ['docker/docker', 'library/debian', 'debian', 'docker.io/docker/docker', 'docker.io/library/debian',
    'docker.io/debian', 'index.docker.io/docker/docker', 'index.docker.io/library/debian', 'index.docker.io/debian',
    '127.0.0.1:5000/docker/docker', '127.0.0.1:5000/library/debian', '127.0.0.1:5000/debian', '192.168.0.1',
    '192.168.0.1:80', '192.168.0.1:8/debian', '192.168.0.2:25000/debian',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', '[fc00::1]:5000/docker',
    '[fc00::1]:5000/docker/docker', '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'Docker/docker', 'DOCKER/docker',
    'docker-rules/docker', 'docker---rules/docker', 'doc/docker', 'd/docker', 'jess/t', 'dock__er/docker'];
  const invalid = ['https://github.com/docker/docker', 'docker/Docker', '-docker', '-docker/docker',
    '-docker.io/docker/docker', 'docker///docker', 'docker.io/docker/Docker', 'docker.io/docker///docker',
    '[fc00::1]', '[fc00::1]:5000', 'fc00::1:5000/debian', '[fe80::1%eth0]:5000/debian',
    '[2001:db8:3:4::192.0.2.33]:5000/debian', '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'docker-/docker', '-docker-/docker', '____/____', '_docker/_docker', 'dock..er/docker', 'dock_.er/docker',
    'dock-.er/docker', 'docker/',
    `${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}x/docker`];
  for (const name of valid) test(`accepts ${name}`, () => assert.doesNotThrow(() => parseReference(name)));
  for (const name of invalid) test(`rejects ${name}`, () => assert.throws(() => parseReference(name), SlipwayError));

  test('exact Docker messages', () => {
    throwsMessage(() => parseReference('Nginx'), 'invalid reference format: repository name (library/Nginx) must be lowercase');
    throwsMessage(() => parseReference('docker/Docker:1'), 'invalid reference format: repository name (docker/Docker) must be lowercase');
    throwsMessage(() => parseReference('nginx:'), 'invalid reference format');
    throwsMessage(() => parseReference(F64), `invalid repository name (${F64}), cannot specify 64-byte hexadecimal strings`);
  });
});

// normalize_test.go TestParseRepositoryInfo
describe('familiar and full names', () => {
  const cases: Array<[string, string, string, string, string?]> = [
    // remote (path), familiar, full, domain, ambiguous
    ['fooo/bar', 'fooo/bar', 'docker.io/fooo/bar', 'docker.io', 'index.docker.io/fooo/bar'],
    ['library/ubuntu', 'ubuntu', 'docker.io/library/ubuntu', 'docker.io', 'library/ubuntu'],
    ['nonlibrary/ubuntu', 'nonlibrary/ubuntu', 'docker.io/nonlibrary/ubuntu', 'docker.io'],
    ['other/library', 'other/library', 'docker.io/other/library', 'docker.io'],
    ['private/moonbase', '127.0.0.1:8000/private/moonbase', '127.0.0.1:8000/private/moonbase', '127.0.0.1:8000'],
    ['privatebase', '127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase', '127.0.0.1:8000'],
    ['private/moonbase', 'example.com/private/moonbase', 'example.com/private/moonbase', 'example.com'],
    ['privatebase', 'example.com/privatebase', 'example.com/privatebase', 'example.com'],
    ['private/moonbase', 'example.com:8000/private/moonbase', 'example.com:8000/private/moonbase', 'example.com:8000'],
    ['library/ubuntu-12.04-base', 'ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base', 'docker.io', 'index.docker.io/library/ubuntu-12.04-base'],
    ['library/foo', 'foo', 'docker.io/library/foo', 'docker.io', 'docker.io/foo'],
    ['library/foo/bar', 'library/foo/bar', 'docker.io/library/foo/bar', 'docker.io'],
    ['store/foo/bar', 'store/foo/bar', 'docker.io/store/foo/bar', 'docker.io'],
    ['bar', 'Foo/bar', 'Foo/bar', 'Foo'],
    ['bar', 'FOO/bar', 'FOO/bar', 'FOO'],
    ['app', 'localhost:5000/app', 'localhost:5000/app', 'localhost:5000'],
    ['app', 'localhost/app', 'localhost/app', 'localhost'],
  ];
  for (const [path, familiar, full, domain, ambiguous] of cases) {
    for (const input of [familiar, full, ...(ambiguous === undefined ? [] : [ambiguous])]) {
      test(input, () => {
        const ref = parseReference(input);
        assert.equal(ref.path, path);
        assert.equal(ref.domain, domain);
        assert.equal(fullName(ref), full);
        assert.equal(familiarName(ref), familiar);
      });
    }
  }
  test('tag and digest together (TestParseReferenceWithTagAndDigest)', () => {
    const short = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
    const ref = parseReference(short);
    assert.equal(referenceString(ref), `docker.io/library/${short}`);
    assert.equal(familiarString(ref), short);
  });
  test('familiarString forms', () => {
    assert.equal(familiarString(withDefaultTag(parseReference('nginx'))), 'nginx:latest');
    assert.equal(familiarString(parseReference(`nginx@${D}`)), `nginx@${D}`);
    assert.equal(familiarString(parseReference('docker.io/user/app:v1')), 'user/app:v1');
  });
});

describe('tags, ParseDockerRef, registry host', () => {
  const dockerRef: Array<[string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:latest', 'docker.io/library/busybox:latest'],
    ['busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582', 'docker.io/library/busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['gcr.io/library/busybox', 'gcr.io/library/busybox:latest'],
    ['gcr.io/library/busybox:latest@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582', 'gcr.io/library/busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582'],
  ];
  for (const [input, expected] of dockerRef) {
    test(`parseDockerRef ${input}`, () => assert.equal(referenceString(parseDockerRef(input)), expected));
  }
  test('withDefaultTag leaves tags and digests alone', () => {
    assert.equal(withDefaultTag(parseReference('a:1')).tag, '1');
    assert.equal(withDefaultTag(parseReference(`a@${D}`)).tag, undefined);
  });
  test('withTag validates like WithTag', () => {
    assert.equal(referenceString(withTag(parseRawReference('test.com:8000/foo'), 'TAG5')), 'test.com:8000/foo:TAG5');
    throwsMessage(() => withTag(parseReference('busybox'), '-foo'), 'invalid tag format');
  });
  test('registryHost', () => {
    assert.equal(registryHost(parseReference('nginx')), 'registry-1.docker.io');
    assert.equal(registryHost(parseReference('index.docker.io/a/b')), 'registry-1.docker.io');
    assert.equal(registryHost(parseReference('localhost:5000/app')), 'localhost:5000');
    assert.equal(registryHost(parseReference('ghcr.io/o/r:1')), 'ghcr.io');
  });
});

// normalize_test.go TestParseAnyReference
describe('parseAnyReference', () => {
  const hex = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
  const named: Array<[string, string]> = [
    ['redis', 'docker.io/library/redis'],
    ['redis:latest', 'docker.io/library/redis:latest'],
    [`redis@sha256:${hex}`, `docker.io/library/redis@sha256:${hex}`],
    ['dmcgowan/myapp:latest', 'docker.io/dmcgowan/myapp:latest'],
    [hex.slice(0, 63), `docker.io/library/${hex.slice(0, 63)}`],
    ['dbcc1', 'docker.io/library/dbcc1'],
  ];
  for (const [input, expected] of named) {
    test(input, () => {
      const r = parseAnyReference(input);
      assert.equal(r.kind, 'reference');
      if (r.kind === 'reference') assert.equal(referenceString(r.ref), expected);
    });
  }
  test('64 hex with or without sha256: is an image ID', () => {
    assert.deepEqual(parseAnyReference(hex), { kind: 'id', id: `sha256:${hex}` });
    assert.deepEqual(parseAnyReference(`sha256:${hex}`), { kind: 'id', id: `sha256:${hex}` });
    assert.equal(isImageId(hex), true);
    assert.equal(isImageId(`sha256:${hex}`), true);
    assert.equal(isImageId(hex.slice(1)), false);
    assert.equal(isImageIdPrefix('dbcc1c35ac38'), true);
    assert.equal(isImageIdPrefix('nginx'), false);
  });
  test('digest validation messages (go-digest)', () => {
    assert.equal(validateDigest(D), D);
    throwsMessage(() => validateDigest('sha256:abc'), 'invalid checksum digest length');
    throwsMessage(() => validateDigest(`sha256:${'F'.repeat(64)}`), 'invalid checksum digest format');
    throwsMessage(() => validateDigest('nocolon'), 'invalid checksum digest format');
  });
});

// normalize_test.go TestMatch / TestMatchError
describe('matchReferencePattern', () => {
  const cases: Array<[string, string, boolean]> = [
    ['foo', 'foo/**/ba[rz]', false],
    ['foo/any/bat', 'foo/**/ba[rz]', false],
    ['foo/a/bar', 'foo/**/ba[rz]', true],
    ['foo/b/baz', 'foo/**/ba[rz]', true],
    ['foo/c/baz:tag', 'foo/**/ba[rz]', true],
    ['foo/c/baz:tag', 'foo/*/baz:tag', true],
    ['foo/c/baz:tag', 'foo/c/baz:tag', true],
    ['example.com/foo/c/baz:tag', '*/foo/c/baz', true],
    ['example.com/foo/c/baz:tag', 'example.com/foo/c/baz', true],
    ['nginx:latest', 'ngin*', true],
    ['nginx:latest', 'nginx:l*', true],
    ['nginx:latest', 'library/nginx', false],
    ['user/app:1', 'app', false],
    ['user/app:1', '*/app:*', true],
  ];
  for (const [ref, pattern, expected] of cases) {
    test(`${ref} ~ ${pattern}`, () => assert.equal(matchReferencePattern(parseReference(ref), pattern), expected));
  }
  test('a malformed pattern is an error', () => {
    throwsMessage(() => matchReferencePattern(parseReference('foo'), '[-x]'), 'syntax error in pattern');
  });
  // Go path/match_test.go
  const pathCases: Array<[string, string, boolean | 'bad']> = [
    ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true],
    ['a*', 'ab/c', false], ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true], ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false], ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false], ['a[^a][^a][^a]b', 'a☺b', false],
    ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false], ['a?b', 'a/b', false], ['a*b', 'a/b', false],
    ['[\\]a]', ']', true], ['[\\-]', '-', true], ['[x\\-]', 'x', true], ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['[\\-x]', '-', true], ['[\\-x]', 'a', false],
    ['[]a]', ']', 'bad'], ['[-]', '-', 'bad'], ['[x-]', 'x', 'bad'], ['[x-]', '-', 'bad'], ['[x-]', 'z', 'bad'],
    ['[-x]', 'x', 'bad'], ['[-x]', '-', 'bad'], ['[-x]', 'a', 'bad'], ['\\', 'a', 'bad'], ['[a-b-c]', 'a', 'bad'],
    ['[', 'a', 'bad'], ['[^', 'a', 'bad'], ['[^bc', 'a', 'bad'], ['a[', 'a', 'bad'], ['a[', 'ab', 'bad'],
    ['a[', 'x', 'bad'], ['a/b[', 'x', 'bad'], ['*x', 'xxx', true],
  ];
  for (const [pattern, name, expected] of pathCases) {
    test(`path.Match(${pattern}, ${name})`, () => {
      if (expected === 'bad') throwsMessage(() => goPathMatch(pattern, name), 'syntax error in pattern');
      else assert.equal(goPathMatch(pattern, name), expected);
    });
  }
});

test('the reference regexps stay fast on hostile input', () => {
  const start = Date.now();
  for (const s of [`${'a-'.repeat(5000)}!`, `${'a.'.repeat(5000)}/`, `${'a/'.repeat(3000)}A`, `${'0'.repeat(10000)}:`]) {
    assert.throws(() => parseReference(s), SlipwayError);
  }
  assert.ok(Date.now() - start < 2000, `took ${Date.now() - start} ms`);
});

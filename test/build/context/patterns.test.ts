import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BadPatternError, goMatch, PatternMatcher, parseIgnoreFile } from '../../../src/build/context/index.js';

// moby/patternmatcher TestMatches: [pattern, text, 'exact' | 'inexact' (parent match) | 'fail'].
const single: Array<[string, string, 'exact' | 'inexact' | 'fail']> = [
  ['**', 'file', 'exact'], ['**', 'file/', 'exact'], ['**/', 'file', 'exact'], ['**/', 'file/', 'exact'],
  ['**', '/', 'exact'], ['**/', '/', 'exact'], ['**', 'dir/file', 'exact'], ['**/', 'dir/file', 'exact'],
  ['**', 'dir/file/', 'exact'], ['**/', 'dir/file/', 'exact'], ['**/**', 'dir/file', 'exact'], ['**/**', 'dir/file/', 'exact'],
  ['dir/**', 'dir/file', 'exact'], ['dir/**', 'dir/file/', 'exact'], ['dir/**', 'dir/dir2/file', 'exact'], ['dir/**', 'dir/dir2/file/', 'exact'],
  ['**/dir', 'dir', 'exact'], ['**/dir', 'dir/file', 'inexact'], ['**/dir2/*', 'dir/dir2/file', 'exact'], ['**/dir2/*', 'dir/dir2/file/', 'inexact'],
  ['**/dir2/**', 'dir/dir2/dir3/file', 'exact'], ['**/dir2/**', 'dir/dir2/dir3/file/', 'exact'],
  ['**file', 'file', 'exact'], ['**file', 'dir/file', 'exact'], ['**/file', 'dir/file', 'exact'], ['**file', 'dir/dir/file', 'exact'],
  ['**/file', 'dir/dir/file', 'exact'], ['**/file*', 'dir/dir/file', 'exact'], ['**/file*', 'dir/dir/file.txt', 'exact'],
  ['**/file*txt', 'dir/dir/file.txt', 'exact'], ['**/file*.txt', 'dir/dir/file.txt', 'exact'], ['**/file*.txt*', 'dir/dir/file.txt', 'exact'],
  ['**/**/*.txt', 'dir/dir/file.txt', 'exact'], ['**/**/*.txt2', 'dir/dir/file.txt', 'fail'], ['**/*.txt', 'file.txt', 'exact'],
  ['**/**/*.txt', 'file.txt', 'exact'], ['a**/*.txt', 'a/file.txt', 'exact'], ['a**/*.txt', 'a/dir/file.txt', 'exact'],
  ['a**/*.txt', 'a/dir/dir/file.txt', 'exact'], ['a/*.txt', 'a/dir/file.txt', 'fail'], ['a/*.txt', 'a/file.txt', 'exact'],
  ['a/*.txt**', 'a/file.txt', 'exact'], ['a[b-d]e', 'ae', 'fail'], ['a[b-d]e', 'ace', 'exact'], ['a[b-d]e', 'aae', 'fail'],
  ['a[^b-d]e', 'aze', 'exact'], ['.*', '.foo', 'exact'], ['.*', 'foo', 'fail'], ['abc.def', 'abcdef', 'fail'],
  ['abc.def', 'abc.def', 'exact'], ['abc.def', 'abcZdef', 'fail'], ['abc?def', 'abcZdef', 'exact'], ['abc?def', 'abcdef', 'fail'],
  ['**/foo/bar', 'foo/bar', 'exact'], ['**/foo/bar', 'dir/foo/bar', 'exact'], ['**/foo/bar', 'dir/dir2/foo/bar', 'exact'],
  ['abc/**', 'abc', 'fail'], ['abc/**', 'abc/def', 'exact'], ['abc/**', 'abc/def/ghi', 'exact'], ['**/.foo', '.foo', 'exact'],
  ['**/.foo', 'bar.foo', 'fail'], ['a(b)c/def', 'a(b)c/def', 'exact'], ['a(b)c/def', 'a(b)c/xyz', 'fail'],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', 'exact'],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  ['a\\\\', 'a\\', 'exact'], ['a\\*b', 'a*b', 'exact'],
];

const multi: Array<[string[], string, boolean]> = [
  [['**', '!util/docker/web'], 'util/docker/web/foo', false],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
  [['**', '!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['*'], 'fileutils.go', true],
  [['*.go'], 'fileutils.go', true],
  [['!fileutils.go', '*.go'], 'fileutils.go', true],
  [['docs', '!docs/README.md'], 'docs/README.md', false],
  [['docs/', '!docs/README.md'], 'docs/README.md', false],
  [['docs/*', '!docs/README.md'], 'docs/README.md', false],
  [['*.go', '!fileutils.go'], 'fileutils.go', false],
  [['*.go'], '.', false],
  [[], '/any/path/there', false],
];

// Go's filepath.Match tests as patternmatcher_test.go carries them.
const goTests: Array<[string, string, boolean | 'bad']> = [
  ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true], ['a*', 'ab/c', true],
  ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false], ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false], ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false], ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false], ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false], ['a[^a][^a][^a]b', 'a☺b', false], ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false], ['a?b', 'a/b', false], ['a*b', 'a/b', false], ['[\\]a]', ']', true], ['[\\-]', '-', true],
  ['[x\\-]', 'x', true], ['[x\\-]', '-', true], ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['[\\-x]', '-', true], ['[\\-x]', 'a', false],
  ['[]a]', ']', 'bad'], ['[-]', '-', 'bad'], ['[x-]', 'x', 'bad'], ['[x-]', '-', 'bad'], ['[x-]', 'z', 'bad'], ['[-x]', 'x', 'bad'],
  ['[-x]', '-', 'bad'], ['[-x]', 'a', 'bad'], ['\\', 'a', 'bad'], ['[a-b-c]', 'a', 'bad'], ['[', 'a', 'bad'], ['[^', 'a', 'bad'],
  ['[^bc', 'a', 'bad'], ['a[', 'a', 'bad'], ['a[', 'ab', 'bad'], ['*x', 'xxx', true],
];

describe('PatternMatcher (moby/patternmatcher cases)', () => {
  for (const [pattern, text, want] of single) {
    test(`${pattern} ~ ${text}: ${want}`, () => {
      const pm = new PatternMatcher([pattern]);
      assert.equal(pm.matchWithParent(text).matched, want !== 'fail');
      // exact-only semantics: the pattern itself, no parent directories
      assert.equal(pm.patterns[0]?.match(text), want === 'exact');
    });
  }
  for (const [patterns, text, want] of multi) {
    test(`${JSON.stringify(patterns)} ~ ${text}: ${want}`, () => {
      assert.equal(new PatternMatcher(patterns).matches(text), want);
    });
  }
  test('parent results passed down give the same answers as a fresh match', () => {
    for (const [pattern, text, want] of single) {
      const pm = new PatternMatcher([pattern]);
      const parts = text.split('/').filter((p, i, a) => p !== '' || i === a.length - 1);
      let info: readonly boolean[] | undefined;
      for (let i = 1; i < parts.length; i++) info = pm.matchWithParent(parts.slice(0, i).join('/'), info).info;
      assert.equal(pm.matchWithParent(text, info ?? []).matched, want !== 'fail', `${pattern} ${text}`);
    }
  });
  test('a lone "!" and malformed patterns are errors', () => {
    assert.throws(() => new PatternMatcher(['!']), /illegal exclusion pattern/);
    assert.throws(() => new PatternMatcher(['[']), BadPatternError);
    assert.equal(new PatternMatcher(['docs', 'config', '']).patterns.length, 2);
    assert.ok(new PatternMatcher(['docs', '  !docs/README.md']).hasExclusions);
    assert.ok(new PatternMatcher(['docs', '!docs/README.md  ']).hasExclusions);
  });
});

describe('goMatch (Go filepath.Match)', () => {
  for (const [pattern, name, want] of goTests) {
    test(`${pattern} ~ ${name}`, () => {
      if (want === 'bad') assert.throws(() => goMatch(pattern, name), BadPatternError);
      // Go's own table has false for a* ~ ab/c; patternmatcher's copy says true because "ab" matches as a parent
      else assert.equal(goMatch(pattern, name), pattern === 'a*' && name === 'ab/c' ? false : want);
      if (want !== 'bad') assert.equal(new PatternMatcher([pattern]).matches(name), want);
    });
  }
});

describe('parseIgnoreFile (BuildKit ReadAll)', () => {
  test('comments, blanks, leading slash, exceptions, clean', () => {
    const text = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! \n';
    assert.deepEqual(parseIgnoreFile(text), ['test1', 'test2', 'a/file/here', 'lastfile', '!inverted/abs/path', '!', '!']);
  });
  test('BOM, CRLF, indented # is a pattern, Clean', () => {
    assert.deepEqual(parseIgnoreFile('\uFEFFa\r\n  #b\r\nc/../d//e/\r\n./f\n/\n'), ['a', '#b', 'd/e', 'f', '/']);
  });
});

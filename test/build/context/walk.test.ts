import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createIgnoreMatcher, loadIgnore, openContext, parseIgnoreFile } from '../../../src/build/context/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeTree } from './helpers.js';

const TREE = {
  'Dockerfile': 'FROM scratch\n',
  'a.txt': 'a', 'b.log': 'b', 'README.md': 'r',
  'docs/README.md': 'd', 'docs/guide.md': 'g', 'docs/img/x.png': 'x',
  'src/main.go': 'm', 'src/main_test.go': 't', 'src/vendor/lib/lib.go': 'l', 'src/tmp/t.log': 'l',
  'node_modules/pkg/index.js': 'n', 'node_modules/keep/index.js': 'k',
  'deep/a/b/c.log': 'c', 'empty': { dir: true as const },
};

const ALL = ['Dockerfile', 'README.md', 'a.txt', 'b.log', 'deep', 'deep/a', 'deep/a/b', 'deep/a/b/c.log', 'docs', 'docs/README.md', 'docs/guide.md', 'docs/img', 'docs/img/x.png', 'empty', 'node_modules', 'node_modules/keep', 'node_modules/keep/index.js', 'node_modules/pkg', 'node_modules/pkg/index.js', 'src', 'src/main.go', 'src/main_test.go', 'src/tmp', 'src/tmp/t.log', 'src/vendor', 'src/vendor/lib', 'src/vendor/lib/lib.go'];

// [patterns, exactly what stays visible] or [patterns, { removed }]
const cases: Array<[string[], string[] | { removed: string[] }]> = [
  [[], ALL],
  [['docs', '!docs/README.md'], { removed: ['docs/guide.md', 'docs/img', 'docs/img/x.png'] }],
  [['node_modules', '!node_modules/keep'], { removed: ['node_modules/pkg', 'node_modules/pkg/index.js'] }],
  [['*.log'], { removed: ['b.log'] }],
  [['**/*.log'], { removed: ['b.log', 'deep/a/b/c.log', 'src/tmp/t.log'] }],
  [['*/tmp'], { removed: ['src/tmp', 'src/tmp/t.log'] }],
  [['**', '!src/*.go'], ['src', 'src/main.go', 'src/main_test.go']],
  [['**', '!**/*.md'], ['README.md', 'docs', 'docs/README.md', 'docs/guide.md']],
  [['src', '!src/**/lib.go'], { removed: ['src/main.go', 'src/main_test.go', 'src/tmp', 'src/tmp/t.log'] }],
  [['/docs/img/', 'empty/'], { removed: ['docs/img', 'docs/img/x.png', 'empty'] }],
  [['*', '!Dockerfile'], ['Dockerfile']],
  [['src/*_test.go', 'src/vendor'], { removed: ['src/main_test.go', 'src/vendor', 'src/vendor/lib', 'src/vendor/lib/lib.go'] }],
  [['docs', '!docs/README.md', 'docs/README.md'], { removed: ['docs', 'docs/README.md', 'docs/guide.md', 'docs/img', 'docs/img/x.png'] }],
  [['deep/*/b', 'a.txt', '  # not a comment'], { removed: ['a.txt', 'deep/a/b', 'deep/a/b/c.log'] }],
];

describe('walking a context with .dockerignore', () => {
  for (const [patterns, want] of cases) {
    test(JSON.stringify(patterns), async (t) => {
      const dir = await tempDir(t);
      makeTree(dir, TREE);
      const ignore = createIgnoreMatcher(parseIgnoreFile(patterns.join('\n')));
      const ctx = openContext({ dir, ignore });
      const visible = [...ctx.walk('')].map((e) => e.rel);
      const expected = Array.isArray(want) ? want : ALL.filter((p) => !want.removed.includes(p));
      assert.deepEqual(visible, expected);
      for (const p of ALL) assert.equal(ctx.lstat(p) !== undefined, expected.includes(p), `lstat ${p}`);
    });
  }

  test('exceptions re-include below an ignored directory; nothing else of it is visible', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, TREE);
    const ctx = openContext({ dir, ignore: createIgnoreMatcher(['docs', '!docs/README.md']) });
    const docs = [...ctx.walk('')].map((e) => e.rel).filter((p) => p.startsWith('docs'));
    assert.deepEqual(docs, ['docs', 'docs/README.md']);
    assert.ok(ctx.lstat('docs')?.isDirectory());
    assert.equal(ctx.lstat('docs/guide.md'), undefined);
    assert.equal(ctx.lstat('docs/img'), undefined);
  });

  test('an ignored directory nothing can re-include is never listed', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { 'secret/a': 'x', 'ok': 'y' });
    fs.chmodSync(path.join(dir, 'secret'), 0o000);
    try {
      const ctx = openContext({ dir, ignore: createIgnoreMatcher(['secret']) });
      assert.deepEqual([...ctx.walk('')].map((e) => e.rel), ['ok']);
    } finally {
      fs.chmodSync(path.join(dir, 'secret'), 0o755);
    }
  });

  test('wildcard exceptions make the walk descend into ignored directories', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { 'a/b/c/keep.txt': '1', 'a/b/c/drop.bin': '2', 'a/x.bin': '3' });
    const ctx = openContext({ dir, ignore: createIgnoreMatcher(['a', '!a/**/*.txt']) });
    assert.deepEqual([...ctx.walk('')].map((e) => e.rel), ['a', 'a/b', 'a/b/c', 'a/b/c/keep.txt']);
  });
});

describe('loadIgnore', () => {
  test('<Dockerfile>.dockerignore beside the Dockerfile replaces the context .dockerignore', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { '.dockerignore': 'a.txt\n', 'build/app.Dockerfile': 'FROM scratch', 'build/app.Dockerfile.dockerignore': 'b.txt\n' });
    const own = loadIgnore({ contextDir: dir, dockerfilePath: path.join(dir, 'build/app.Dockerfile') });
    assert.equal(own.source, path.join(dir, 'build/app.Dockerfile.dockerignore'));
    assert.equal(own.matches('b.txt'), true);
    assert.equal(own.matches('a.txt'), false);
    const ctxOnly = loadIgnore({ contextDir: dir, dockerfilePath: path.join(dir, 'Dockerfile') });
    assert.equal(ctxOnly.source, path.join(dir, '.dockerignore'));
    assert.equal(ctxOnly.matches('a.txt'), true);
    const stdin = loadIgnore({ contextDir: dir });
    assert.deepEqual(stdin.patterns, ['a.txt']);
  });
  test('no file: nothing ignored; a bad pattern names the file', async (t) => {
    const dir = await tempDir(t);
    assert.equal(loadIgnore({ contextDir: dir }).matches('x'), false);
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'ok\n[\n');
    assert.throws(() => loadIgnore({ contextDir: dir }), (e: Error) => e.message.includes('.dockerignore: invalid pattern'));
    fs.writeFileSync(path.join(dir, '.dockerignore'), '!\n');
    assert.throws(() => loadIgnore({ contextDir: dir }), /illegal exclusion pattern/);
  });
  test('the Dockerfile and .dockerignore are invisible to COPY when listed', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { 'Dockerfile': 'x', '.dockerignore': 'Dockerfile\n.dockerignore\n', 'a': 'a' });
    const ctx = openContext({ dir, ignore: loadIgnore({ contextDir: dir, dockerfilePath: path.join(dir, 'Dockerfile') }) });
    assert.deepEqual([...ctx.walk('')].map((e) => e.rel), ['a']);
  });
});

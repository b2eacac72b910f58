import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createIgnoreMatcher, openContext, resolveSources, SourceNotFoundError } from '../../../src/build/context/index.js';
import type { CopyPlan, DestKind, ResolveSourcesOptions } from '../../../src/build/context/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeTree } from './helpers.js';
import type { Spec } from './helpers.js';

const TREE: Spec = {
  'a.txt': 'a', 'b.txt': 'b', 'c.md': 'c',
  'dir/x': 'x', 'dir/sub/y': 'y', 'dir/empty': { dir: true }, 'dir/link': { link: 'x' },
  'lnk': { link: 'dir/x' }, 'dirlink': { link: 'dir' }, 'abs': { link: '/a.txt' },
  'p/q/r.txt': 'r', 'p/q/s.md': 's', 'p/t.txt': 't',
  'ign/secret': 's',
};

async function plan(t: import('node:test').TestContext, o: Partial<ResolveSourcesOptions> & { ignore?: string[] }): Promise<CopyPlan> {
  const dir = await tempDir(t);
  makeTree(dir, TREE);
  const ctx = openContext({ dir, ignore: createIgnoreMatcher(o.ignore ?? ['ign']) });
  return resolveSources(ctx, { sources: o.sources ?? [], dest: o.dest ?? '/', ...o });
}

const show = (p: CopyPlan): string[] => [
  ...p.dirs.map((d) => `${d.dest}/ (${d.created ? 'created' : 'existing'})`),
  ...p.entries.map((e) => `${e.dest}${e.type === 'directory' ? '/' : ''}${e.type === 'symlink' ? ` -> ${e.linkname}` : ''}${e.hardlinkTo ? ` => ${e.hardlinkTo}` : ''}`),
].sort();

// [description, options, expected plan (implicit dirs and entries, sorted)]
const cases: Array<[string, Partial<ResolveSourcesOptions>, string[]]> = [
  ['file into dir/', { sources: ['a.txt'], dest: '/app/' }, ['/app/ (created)', '/app/a.txt']],
  ['file to a file name', { sources: ['a.txt'], dest: '/app/b' }, ['/app/ (created)', '/app/b']],
  ['file relative to WORKDIR', { sources: ['a.txt'], dest: 'sub/', workdir: '/w' }, ['/w/ (created)', '/w/sub/ (created)', '/w/sub/a.txt']],
  ['"." is WORKDIR as a directory', { sources: ['a.txt'], dest: '.', workdir: '/w' }, ['/w/ (created)', '/w/a.txt']],
  ['directory copies its contents', { sources: ['dir'], dest: '/app' }, ['/app/ (created)', '/app/empty/', '/app/link -> x', '/app/sub/', '/app/sub/y', '/app/x']],
  ['trailing slash on a source does not matter', { sources: ['dir/sub/'], dest: '/app' }, ['/app/ (created)', '/app/y']],
  ['wildcard', { sources: ['*.txt'], dest: '/app/' }, ['/app/ (created)', '/app/a.txt', '/app/b.txt']],
  ['wildcard per component', { sources: ['p/*/*.txt'], dest: '/o/' }, ['/o/ (created)', '/o/r.txt']],
  ['class and ?', { sources: ['[ab].tx?'], dest: '/o/' }, ['/o/ (created)', '/o/a.txt', '/o/b.txt']],
  ['wildcard matching a directory copies its contents', { sources: ['d?r'], dest: '/o/' }, ['/o/ (created)', '/o/empty/', '/o/link -> x', '/o/sub/', '/o/sub/y', '/o/x']],
  ['several sources', { sources: ['a.txt', 'c.md', 'dir/sub'], dest: '/o/' }, ['/o/ (created)', '/o/a.txt', '/o/c.md', '/o/y']],
  ['explicit symlink source is followed, keeps the link name', { sources: ['lnk'], dest: '/o/' }, ['/o/ (created)', '/o/lnk']],
  ['absolute symlink resolves inside the context', { sources: ['abs'], dest: '/o/' }, ['/o/ (created)', '/o/abs']],
  ['symlink to a directory copies the directory contents', { sources: ['dirlink/sub'], dest: '/o' }, ['/o/ (created)', '/o/y']],
  ['../ cannot leave the context (BuildKit cleans it to /)', { sources: ['../a.txt'], dest: '/o/' }, ['/o/ (created)', '/o/a.txt']],
  ['--parents keeps the relative path', { sources: ['p/q/r.txt', 'a.txt'], dest: '/o/', parents: true }, ['/o/ (created)', '/o/a.txt', '/o/p/', '/o/p/q/', '/o/p/q/r.txt']],
  ['--parents with a /./ pivot and wildcard', { sources: ['p/./q/*.md'], dest: '/o/', parents: true }, ['/o/ (created)', '/o/q/', '/o/q/s.md']],
  ['--exclude', { sources: ['p'], dest: '/o/', excludes: ['**/*.md', 't.txt'] }, ['/o/ (created)', '/o/q/', '/o/q/r.txt']],
  ['--exclude on wildcard matches', { sources: ['*'], dest: '/o/', excludes: ['*.txt', 'dir', 'p', 'dirlink', 'lnk', 'abs'] }, ['/o/ (created)', '/o/c.md']],
  ['dest in an existing image directory', { sources: ['a.txt'], dest: '/etc', destKind: (p: string): DestKind | undefined => (p === '/etc' ? 'dir' : undefined) }, ['/etc/ (existing)', '/etc/a.txt']],
  ['copy to /', { sources: ['dir/sub'], dest: '/' }, ['/y']],
  ['wildcard matching nothing copies nothing', { sources: ['*.none'], dest: '/o/' }, []],
];

describe('resolveSources (COPY semantics)', () => {
  for (const [name, opts, want] of cases) {
    test(name, async (t) => {
      assert.deepEqual(show(await plan(t, opts)), want);
    });
  }

  test('layer order: depth first, byte order, parents first', async (t) => {
    const p = await plan(t, { sources: ['dir', 'a.txt'], dest: '/app/' });
    assert.deepEqual(p.entries.map((e) => e.dest), ['/app/a.txt', '/app/empty', '/app/link', '/app/sub', '/app/sub/y', '/app/x']);
  });

  test('several sources need a directory destination', async (t) => {
    await assert.rejects(plan(t, { sources: ['a.txt', 'b.txt'], dest: '/app' }),
      /When using COPY with more than one source file, the destination must be a directory and end with a \//);
  });

  test('a wildcard onto a file: last one wins, with a warning', async (t) => {
    const p = await plan(t, { sources: ['*.txt'], dest: '/app.txt' });
    assert.deepEqual(p.entries.map((e) => [e.dest, e.rel]), [['/app.txt', 'b.txt']]);
    assert.match(p.warnings.join('\n'), /last one wins/);
  });

  test('missing and ignored sources name the path', async (t) => {
    await assert.rejects(plan(t, { sources: ['missing'], dest: '/' }), (e: unknown) =>
      e instanceof SourceNotFoundError && e.message === '"/missing": not found' && e.source === 'missing' && e.code === 'BUILD');
    await assert.rejects(plan(t, { sources: ['ign/secret'], dest: '/' }), (e: unknown) =>
      e instanceof SourceNotFoundError && e.ignored && /excluded by \.dockerignore/.test(e.message));
    await assert.rejects(plan(t, { sources: ['p/x.txt'], dest: '/', parents: true }), SourceNotFoundError);
  });

  test('symlink loops are reported', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { loop1: { link: 'loop2' }, loop2: { link: 'loop1' } });
    const ctx = openContext({ dir });
    assert.throws(() => resolveSources(ctx, { sources: ['loop1'], dest: '/' }), /symlink loop/);
  });

  test('hard links inside one source stay hard links', async (t) => {
    const dir = await tempDir(t);
    makeTree(dir, { 'h/a': 'data' });
    fs.linkSync(path.join(dir, 'h/a'), path.join(dir, 'h/b'));
    const ctx = openContext({ dir });
    const p = resolveSources(ctx, { sources: ['h'], dest: '/x/' });
    assert.deepEqual(p.entries.map((e) => [e.dest, e.hardlinkTo]), [['/x/a', undefined], ['/x/b', '/x/a']]);
  });

  test('a directory onto an image file, a file onto a directory are errors', async (t) => {
    await assert.rejects(plan(t, { sources: ['dir'], dest: '/f', destKind: (p) => (p === '/f' ? 'file' : undefined) }), /cannot copy to non-directory: \/f/);
    await assert.rejects(plan(t, { sources: ['a.txt'], dest: '/d/x/', destKind: (p) => (p === '/d' ? 'file' : undefined) }), /\/d is not a directory/);
  });
});

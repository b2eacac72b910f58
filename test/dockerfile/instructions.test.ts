import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildDefinition, expandOnbuildTriggers, parseInstructionLine, parseMount, DockerfileError,
} from '../../src/dockerfile/index.js';
import type { Instruction } from '../../src/dockerfile/index.js';

const AMD64 = { os: 'linux', architecture: 'amd64' };

function last(text: string): Instruction {
  const d = buildDefinition({ text, buildPlatform: AMD64 });
  const list = d.stages.at(-1)?.instructions ?? [];
  const i = list[list.length - 1];
  assert.ok(i);
  return i;
}

describe('heredoc semantics', () => {
  test('RUN <<EOF alone: the body is the script', () => {
    const i = last('FROM a\nRUN <<EOF\necho $HOME\necho 2\nEOF');
    assert.ok(i.kind === 'run');
    assert.deepEqual(i.exec, { args: ['echo $HOME\necho 2\n'], prependShell: true, files: [] });
  });
  test('RUN <<-EOF strips leading tabs', () => {
    const i = last('FROM a\nRUN <<-EOF\n\techo 1\n\t\techo 2\n\tEOF');
    assert.ok(i.kind === 'run');
    assert.deepEqual(i.exec.args, ['echo 1\necho 2\n']);
  });
  test('RUN heredoc with a shebang becomes an executable file', () => {
    const i = last('FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF');
    assert.ok(i.kind === 'run');
    assert.deepEqual(i.exec, {
      args: ['/dev/pipes/EOF'], prependShell: true,
      files: [{ path: '/dev/pipes/EOF', data: '#!/usr/bin/env python3\nprint(1)\n', mode: 0o755 }],
    });
  });
  test('RUN with a heredoc as stdin is reassembled for the shell', () => {
    const i = last('FROM a\nRUN python3 <<EOF > /out\nprint(1)\nEOF');
    assert.ok(i.kind === 'run');
    assert.deepEqual(i.exec.args, ['python3 <<EOF > /out\nprint(1)\nEOF']);
  });
  test('COPY heredoc is a file, expanded unless the delimiter is quoted', () => {
    const text = 'FROM a\nENV X=1\nCOPY <<A <<"B" <<-C /dst/\n$X "q" \\$X\nA\n$X\nB\n\t$X\nC';
    const i = last(text);
    assert.ok(i.kind === 'copy');
    assert.deepEqual(i.inline, [{ path: 'A', data: '1 "q" $X\n' }, { path: 'B', data: '$X\n' }, { path: 'C', data: '1\n' }]);
    assert.deepEqual(i.sources, []);
    assert.equal(i.dest, '/dst/');
  });
  test('ADD mixes heredocs and paths', () => {
    const i = last('FROM a\nADD <<EOF file.txt /dst/\nhi\nEOF');
    assert.ok(i.kind === 'add');
    assert.deepEqual([i.sources, i.inline], [['file.txt'], [{ path: 'EOF', data: 'hi\n' }]]);
  });
});

describe('instruction flags', () => {
  test('FROM --platform, RUN --network --security', () => {
    const i = last('FROM a\nRUN --network=none --security=insecure x');
    assert.ok(i.kind === 'run');
    assert.equal(i.network, 'none');
    assert.equal(i.security, 'insecure');
  });
  test('ADD flags', () => {
    const i = last('FROM a\nADD --chown=1:2 --chmod=644 --checksum=sha256:abc --keep-git-dir --link --exclude=*.md --exclude=x https://x/y.tgz /d');
    assert.ok(i.kind === 'add');
    assert.deepEqual([i.chown, i.chmod, i.checksum, i.keepGitDir, i.link, i.excludes], ['1:2', '644', 'sha256:abc', true, true, ['*.md', 'x']]);
  });
  test('COPY flags', () => {
    const i = last('FROM a AS s\nFROM b\nCOPY --from=s --chown=u --chmod=755 --link=false --parents --exclude=a ./x /d');
    assert.ok(i.kind === 'copy');
    assert.deepEqual([i.from, i.fromStage, i.chown, i.chmod, i.link, i.parents, i.excludes], ['s', 0, 'u', '755', false, true, ['a']]);
  });
  test('HEALTHCHECK all options', () => {
    const i = last('FROM a\nHEALTHCHECK --interval=1m30s --timeout=5s --start-period=1.5s --start-interval=100ms --retries=3 CMD ["curl", "-f", "x"]');
    assert.ok(i.kind === 'healthcheck');
    assert.deepEqual(i.health, {
      test: ['CMD', 'curl', '-f', 'x'], interval: 90e9, timeout: 5e9, startPeriod: 1.5e9, startInterval: 100e6, retries: 3,
    });
    const none = last('FROM a\nHEALTHCHECK NONE');
    assert.ok(none.kind === 'healthcheck');
    assert.deepEqual(none.health, { test: ['NONE'] });
  });
  test('SHELL, STOPSIGNAL, MAINTAINER, CMD, ENTRYPOINT forms', () => {
    const list = buildDefinition({ text: 'FROM a\nSHELL ["/bin/bash", "-c"]\nSTOPSIGNAL SIGKILL\nMAINTAINER me <m@x>\nCMD ["a"]\nENTRYPOINT b c', buildPlatform: AMD64 }).stages[0]?.instructions;
    assert.deepEqual(list?.map((i) => {
      switch (i.kind) {
        case 'shell': return i.shell;
        case 'stopsignal': return i.signal;
        case 'maintainer': return i.maintainer;
        case 'cmd': case 'entrypoint': return [i.form, i.command];
        default: return null;
      }
    }), [['/bin/bash', '-c'], 'SIGKILL', 'me <m@x>', ['exec', ['a']], ['shell', ['b c']]]);
  });
});

describe('RUN --mount', () => {
  const cases: [string, object][] = [
    ['target=/x', { type: 'bind', target: '/x', readOnly: true, required: false }],
    ['type=bind,from=s,source=/a,target=/b,rw', { type: 'bind', from: 's', source: '/a', target: '/b', readOnly: false, required: false }],
    ['type=cache,target=/c,sharing=locked,mode=0755,uid=1,gid=2', { type: 'cache', target: '/c', sharing: 'locked', mode: 0o755, uid: 1, gid: 2, readOnly: false, required: false, id: '/c' }],
    ['type=cache,id=x,target=/c,ro', { type: 'cache', id: 'x', target: '/c', readOnly: true, required: false, sharing: 'shared' }],
    ['type=tmpfs,target=/t,size=64m', { type: 'tmpfs', target: '/t', size: 64 * 1024 * 1024, readOnly: false, required: false }],
    ['type=secret,id=tok', { type: 'secret', id: 'tok', target: '/run/secrets/tok', readOnly: true, required: false }],
    ['type=secret,id=tok,env=TOKEN,required', { type: 'secret', id: 'tok', env: 'TOKEN', readOnly: true, required: true }],
    ['type=secret,target=/etc/key', { type: 'secret', id: 'key', target: '/etc/key', readOnly: true, required: false }],
    ['type=ssh', { type: 'ssh', id: 'default', readOnly: true, required: false }],
    ['type=bind,"target=/a,b",ro', { type: 'bind', target: '/a,b', readOnly: true, required: false }],
  ];
  for (const [value, want] of cases) test(value, () => assert.deepEqual({ ...parseMount(value) }, want));
  test('secret with both source and id', () => assert.throws(() => parseMount('type=secret,source=a,id=b'), /both source and id can't be set/));
  test('sharing on a bind mount', () => assert.throws(() => parseMount('target=/x,sharing=shared'), /invalid cache sharing set for bind mount/));
});

describe('ONBUILD', () => {
  test('triggers of a base stage run first in the child, expanded there', () => {
    const d = buildDefinition({ text: 'FROM a AS base\nONBUILD ENV X=$Y\nFROM base\nENV Y=2\nFROM base AS c\nARG Y=3\nWORKDIR /$X', buildPlatform: AMD64 });
    const child = d.stages[2]?.instructions ?? [];
    assert.equal(child[0]?.kind, 'env');
    assert.equal(child[0]?.fromOnbuild, true);
    assert.equal(child[2]?.kind === 'workdir' && child[2].path, '/');
  });
  test('triggers of a base image come from the builder', () => {
    const d = buildDefinition({
      text: 'FROM img\nRUN x', buildPlatform: AMD64,
      baseImage: () => ({ env: ['A=1'], onBuild: ['ENV B=$A', 'COPY . /app'] }),
    });
    const list = d.stages[0]?.instructions ?? [];
    assert.deepEqual(list.map((i) => [i.kind, i.line, i.fromOnbuild ?? false]), [['env', 1, true], ['copy', 1, true], ['run', 2, false]]);
    assert.equal(list[2]?.scope.env.B, '1');
  });
  test('expandOnbuildTriggers for a later child image', () => {
    const r = expandOnbuildTriggers({ triggers: ['ENV X=$HOME/x', 'WORKDIR $X'], scope: { env: { HOME: '/root' }, args: {} } });
    assert.deepEqual(r.instructions.map((i) => (i.kind === 'workdir' ? i.path : i.kind)), ['env', '/root/x']);
    assert.equal(r.scope.env.X, '/root/x');
    assert.throws(() => expandOnbuildTriggers({ triggers: ['FROM x'], scope: { env: {}, args: {} }, line: 4 }), (e: unknown) =>
      e instanceof DockerfileError && e.line === 4 && /FROM isn't allowed as an ONBUILD trigger/.test(e.message));
  });
});

describe('parseInstructionLine (commit/import --change)', () => {
  test('CMD exec form', () => {
    const i = parseInstructionLine('CMD ["x", "y"]');
    assert.ok(i.kind === 'cmd');
    assert.deepEqual([i.form, i.command], ['exec', ['x', 'y']]);
  });
  test('ENV with expansion against the image env', () => {
    const i = parseInstructionLine('ENV PATH=$PATH:/opt', { env: { PATH: '/bin' } });
    assert.ok(i.kind === 'env');
    assert.deepEqual(i.pairs, [{ key: 'PATH', value: '/bin:/opt' }]);
  });
  test('errors', () => {
    assert.throws(() => parseInstructionLine('FROM x'), /FROM is not allowed here/);
    assert.throws(() => parseInstructionLine('EXPOS 80'), /unknown instruction: EXPOS \(did you mean EXPOSE\?\)/);
  });
});

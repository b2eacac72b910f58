import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDefinition } from '../../src/dockerfile/definition.js';
import type { BuildDefinitionOptions } from '../../src/dockerfile/definition.js';
import { DockerfileError } from '../../src/dockerfile/errors.js';
import type { Instruction } from '../../src/dockerfile/types.js';

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

function def(text: string, opts: Partial<BuildDefinitionOptions> = {}) {
  return buildDefinition({ text, buildPlatform: AMD64, ...opts });
}

/** The instructions of the last (or given) stage. */
function ins(text: string, opts: Partial<BuildDefinitionOptions> = {}, stage = -1): Instruction[] {
  const d = def(text, opts);
  return d.stages.at(stage)?.instructions ?? [];
}

function first<K extends Instruction['kind']>(text: string, kind: K, opts: Partial<BuildDefinitionOptions> = {}) {
  const found = ins(text, opts).find((i) => i.kind === kind);
  assert.ok(found, `no ${kind}`);
  return found as Extract<Instruction, { kind: K }>;
}

function fails(text: string, line: number, re: RegExp, opts: Partial<BuildDefinitionOptions> = {}): void {
  assert.throws(() => def(text, opts), (e: unknown) => {
    assert.ok(e instanceof DockerfileError, String(e));
    assert.equal(e.code, 'DOCKERFILE');
    assert.equal(e.line, line, e.message);
    assert.match(e.message, re);
    assert.ok(e.message.startsWith(line > 0 ? `Dockerfile:${line}: ` : 'Dockerfile: '), e.message);
    return true;
  });
}

describe('errors name the file and line and read like Docker', () => {
  const cases: [string, string, number, RegExp][] = [
    ['unknown instruction with suggestion', 'FROM a\nRUN x\nFORM b', 3, /unknown instruction: FORM \(did you mean FROM\?\)/],
    ['unknown instruction without suggestion', 'FROM a\nFROBNICATE x', 2, /^Dockerfile:2: unknown instruction: FROBNICATE$/],
    ['no FROM at all', 'ARG a=1', 1, /no stages to build/],
    ['instruction before FROM', 'ARG a\nRUN x\nFROM a', 2, /no build stage in current context/],
    ['unknown flag', 'FROM a\nCOPY --chwon=1 a b', 2, /unknown flag: chwon \(did you mean chown\?\)/],
    ['flag on an instruction that takes none', 'FROM a\nENV --x=1 a=b', 2, /unknown flag: x/],
    ['duplicate flag', 'FROM a\nCOPY --from=a --from=b x y', 2, /duplicate flag specified: from/],
    ['flag without value', 'FROM a\nCOPY --chown a b', 2, /missing a value on flag: chown/],
    ['bad bool flag', 'FROM a\nCOPY --link=maybe a b', 2, /expecting boolean value for flag link, not: maybe/],
    ['ENV without value', 'FROM a\nENV x', 2, /ENV must have two arguments/],
    ['LABEL without value', 'FROM a\nLABEL x', 2, /LABEL must have two arguments/],
    ['ENV blank name', 'FROM a\nENV =x', 2, /ENV names can not be blank/],
    ['ARG blank name', 'FROM a\nARG =x', 2, /ARG names can not be blank/],
    ['COPY one argument', 'FROM a\nCOPY x', 2, /COPY requires at least two arguments/],
    ['ADD heredoc destination', 'FROM a\nADD x <<EOF\nhi\nEOF', 2, /ADD cannot accept a heredoc as a destination/],
    ['WORKDIR none', 'FROM a\nWORKDIR', 2, /WORKDIR requires exactly one argument/],
    ['SHELL not JSON', 'FROM a\nSHELL /bin/bash -c', 2, /SHELL requires the arguments to be in JSON form/],
    ['ONBUILD ONBUILD', 'FROM a\nONBUILD ONBUILD RUN x', 2, /Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/],
    ['ONBUILD FROM', 'FROM a\nONBUILD FROM b', 2, /FROM isn't allowed as an ONBUILD trigger/],
    ['ONBUILD MAINTAINER', 'FROM a\nonbuild maintainer me', 2, /MAINTAINER isn't allowed as an ONBUILD trigger/],
    ['FROM two args', 'FROM a b', 1, /FROM requires either one or three arguments/],
    ['invalid stage name', 'FROM a AS 1x', 1, /invalid name for build stage: "1x", name can't start with a number/],
    ['unknown target', 'FROM a AS build\nFROM b AS final', 0, /target stage "buidl" could not be found \(did you mean build\?\)/],
    ['unbound variable', 'FROM a\nARG V\nENV X=${V:?required}', 3, /V: required/],
    ['FROM expands to nothing', 'ARG IMG\nFROM $IMG', 2, /base name \(\$IMG\) should not be blank/],
    ['COPY --from with a variable', 'FROM a\nARG S=x\nCOPY --from=$S a b', 3, /variable expansion is not supported for --from/],
    ['mount from with a variable', 'FROM a\nRUN --mount=from=$X,target=/x true', 2, /'from' doesn't support variable expansion/],
    ['bad mount type', 'FROM a\nRUN --mount=type=bnd,target=/x true', 2, /unsupported mount type "bnd" \(did you mean bind\?\)/],
    ['bad mount key', 'FROM a\nRUN --mount=type=cache,tagret=/x true', 2, /unexpected key 'tagret' in 'tagret=\/x' \(did you mean target\?\)/],
    ['secret mount without id', 'FROM a\nRUN --mount=type=secret true', 2, /invalid secret mount/],
    ['uid on bind mount', 'FROM a\nRUN --mount=target=/x,uid=1 true', 2, /uid not allowed for "bind" type mounts/],
    ['bad network', 'FROM a\nRUN --network=bridge true', 2, /unsupported network mode "bridge"/],
    ['HEALTHCHECK bad type', 'FROM a\nHEALTHCHECK FOO x', 2, /Unknown type "FOO" in HEALTHCHECK \(try CMD\)/],
    ['HEALTHCHECK NONE with args', 'FROM a\nHEALTHCHECK NONE x', 2, /HEALTHCHECK NONE takes no arguments/],
    ["HEALTHCHECK bad duration", "FROM a\nHEALTHCHECK --interval=5x CMD x", 2, /time: unknown unit "x" in duration "5x"/],
    ['HEALTHCHECK too short', 'FROM a\nHEALTHCHECK --timeout=10us CMD x', 2, /Interval "timeout" cannot be less than 1ms/],
    ['EXPOSE bad proto', 'FROM a\nEXPOSE 80/xyz', 2, /invalid proto: xyz/],
    ['EXPOSE bad port', 'FROM a\nEXPOSE abc', 2, /invalid containerPort: abc/],
    ['VOLUME empty', 'FROM a\nVOLUME [""]', 2, /VOLUME specified can not be an empty string/],
    ['circular COPY --from', 'FROM a AS x\nCOPY --from=y a b\nFROM b AS y\nCOPY --from=x a b', 0, /circular dependency detected on stage/],
    ['COPY --from its own stage', 'FROM a AS x\nCOPY --from=x a b', 2, /circular dependency detected on stage: x/],
    ['COPY --from bad index', 'FROM a\nCOPY --from=3 a b', 2, /invalid stage index 3/],
    ['multi-line instruction reports its first line', 'FROM a\nRUN --bad \\\n  x', 2, /unknown flag: bad/],
  ];
  for (const [name, text, line, re] of cases) test(name, () => fails(text, line, re, name === 'unknown target' ? { target: 'buidl' } : {}));

  test('the error names the given file', () => {
    assert.throws(() => buildDefinition({ text: 'FROM a\nBAD x', fileName: 'app/Dockerfile.dev' }), /^SlipwayError|app\/Dockerfile\.dev:2: unknown instruction: BAD/);
    try {
      buildDefinition({ text: 'FROM a\nBAD x', fileName: 'app/Dockerfile.dev' });
    } catch (e) {
      assert.ok(e instanceof DockerfileError);
      assert.equal(e.message, 'app/Dockerfile.dev:2: unknown instruction: BAD (did you mean ADD?)');
      assert.equal(e.fileName, 'app/Dockerfile.dev');
    }
  });
});

describe('expansion happens only where Docker expands', () => {
  const env = 'FROM a\nENV V=val S="a b"\n';
  const cases: [string, string, (i: Instruction) => unknown, unknown][] = [
    ['ADD', 'ADD --chown=$V:$V $V/x /dst/$V', (i) => i.kind === 'add' && [i.sources, i.dest, i.chown], [['val/x'], '/dst/val', 'val:val']],
    ['COPY', 'COPY ["$V", "${V}2"]', (i) => i.kind === 'copy' && [i.sources, i.dest], [['val'], 'val2']],
    ['COPY --chmod', 'COPY --chmod=$M a b', (i) => i.kind === 'copy' && i.chmod, ''],
    ['ENV key and value', 'ENV $V=$V', (i) => i.kind === 'env' && i.pairs, [{ key: 'val', value: 'val' }]],
    ['ENV old form keeps spaces', 'ENV X  $V  and  more', (i) => i.kind === 'env' && i.pairs, [{ key: 'X', value: 'val  and  more' }]],
    ['ENV quotes and escapes', 'ENV X="a $V" Y=\'$V\' Z=a\\ b', (i) => i.kind === 'env' && i.pairs.map((p) => p.value), ['a val', '$V', 'a b']],
    ['EXPOSE splits after expansion', 'ENV P="80 443/udp"\nEXPOSE $P', (i) => i.kind === 'expose' && i.ports, ['80/tcp', '443/udp']],
    ['LABEL', 'LABEL "k $V"="v $V"', (i) => i.kind === 'label' && i.pairs, [{ key: 'k val', value: 'v val' }]],
    ['STOPSIGNAL', 'ENV T=TERM\nSTOPSIGNAL SIG$T', (i) => i.kind === 'stopsignal' && i.signal, 'SIGTERM'],
    ['USER', 'USER ${V}:${V}', (i) => i.kind === 'user' && i.user, 'val:val'],
    ['VOLUME', 'VOLUME $V /b', (i) => i.kind === 'volume' && i.volumes, ['val', '/b']],
    ['WORKDIR', 'WORKDIR /app/$V', (i) => i.kind === 'workdir' && i.path, '/app/val'],
    ['RUN not expanded', 'RUN echo $V', (i) => i.kind === 'run' && i.command, ['echo $V']],
    ['RUN exec not expanded', 'RUN ["echo", "$V"]', (i) => i.kind === 'run' && i.command, ['echo', '$V']],
    ['CMD not expanded', 'CMD echo $V', (i) => i.kind === 'cmd' && i.command, ['echo $V']],
    ['ENTRYPOINT not expanded', 'ENTRYPOINT ["$V"]', (i) => i.kind === 'entrypoint' && i.command, ['$V']],
    ['MAINTAINER not expanded', 'MAINTAINER $V', (i) => i.kind === 'maintainer' && i.maintainer, '$V'],
    ['ONBUILD not expanded', 'ONBUILD RUN echo $V', (i) => i.kind === 'onbuild' && i.expression, 'RUN echo $V'],
    ['RUN mount values expanded', 'RUN --mount=type=cache,target=/c/$V,id=$V true', (i) => i.kind === 'run' && [i.mounts[0]?.target, i.mounts[0]?.id], ['/c/val', 'val']],
    ['escaped dollar', 'WORKDIR \\$V', (i) => i.kind === 'workdir' && i.path, '$V'],
  ];
  for (const [name, line, pick, want] of cases) {
    test(name, () => {
      const list = ins(env + line);
      assert.deepEqual(pick(list[list.length - 1] as Instruction), want);
    });
  }
  test('escape token ` applies to expansion', () => {
    assert.equal(first('# escape=`\nFROM a\nENV X=1\nWORKDIR c:\\x\\`$X', 'workdir').path, 'c:\\x\\$X');
  });
});

describe('ENV and ARG semantics', () => {
  test('one ENV sees the values from before it', () => {
    const list = ins('FROM a\nENV a=1\nENV a=2 b=$a\nENV c=$a');
    assert.deepEqual(list.map((i) => i.kind === 'env' && i.pairs.map((p) => p.value)), [['1'], ['2', '1'], ['2']]);
  });
  test('one ARG line sees its own earlier names', () => {
    const a = first('FROM a\nARG x=1 y=$x', 'arg');
    assert.deepEqual(a.args, [{ key: 'x', default: '1', value: '1' }, { key: 'y', default: '$x', value: '1' }]);
  });
  test('global ARGs are visible only in FROM unless redeclared', () => {
    const d = def('ARG V=1.0\nARG IMG=alpine:$V\nFROM $IMG\nRUN true\nWORKDIR /$V\nARG V\nWORKDIR /$V');
    assert.equal(d.stages[0]?.baseName, 'alpine:1.0');
    const wd = d.stages[0]?.instructions.filter((i) => i.kind === 'workdir').map((i) => i.kind === 'workdir' && i.path);
    assert.deepEqual(wd, ['/', '/1.0']);
    assert.deepEqual(d.metaArgs, [{ key: 'V', value: '1.0', line: 1 }, { key: 'IMG', value: 'alpine:1.0', line: 2 }]);
  });
  test('--build-arg overrides defaults, global and local, and is not expanded', () => {
    const d = def('ARG V=1\nFROM a:$V\nARG V\nARG W=x\nARG Z\nWORKDIR /$V/$W/$Z', { buildArgs: { V: '2', W: '$HOME', Z: 'z' } });
    assert.equal(d.stages[0]?.baseName, 'a:2');
    assert.equal(first('ARG V=1\nFROM a:$V\nARG V\nARG W=x\nARG Z\nWORKDIR /$V/$W/$Z', 'workdir', { buildArgs: { V: '2', W: '$HOME', Z: 'z' } }).path, '/2/$HOME/z');
  });
  test('an ARG with no value and no build arg is unset', () => {
    assert.equal(first('FROM a\nARG V\nWORKDIR /${V-unset}', 'workdir').path, '/unset');
    assert.equal(first('FROM a\nARG V=\nWORKDIR /${V-unset}', 'workdir').path, '/');
  });
  test('scope carries ENV and ARG values for RUN; args separately', () => {
    const run = first('FROM a\nENV E=1\nARG A=2\nRUN x', 'run', { buildArgs: {} });
    assert.equal(run.scope.env.E, '1');
    assert.equal(run.scope.env.A, '2');
    assert.deepEqual({ ...run.scope.args }, { A: '2' });
    assert.equal(run.scope.env.PATH, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });
  test('ARG scope ends at the next FROM', () => {
    const d = def('FROM a\nARG X=1\nFROM b\nWORKDIR /$X');
    assert.equal(d.stages[1]?.instructions[0]?.kind === 'workdir' && d.stages[1].instructions[0].path, '/');
  });
  test('a stage built on a stage inherits its variables', () => {
    assert.equal(first('FROM a AS base\nENV X=1\nFROM base\nWORKDIR /$X', 'workdir').path, '/1');
  });
  test('base image Env is visible when the builder provides it', () => {
    const wd = first('FROM golang\nWORKDIR $GOPATH/src', 'workdir', {
      baseImage: (ref) => (ref === 'golang' ? { env: ['GOPATH=/go', 'PATH=/go/bin'] } : undefined),
    });
    assert.equal(wd.path, '/go/src');
    assert.equal(wd.scope.env.PATH, '/go/bin');
  });
  test('predefined proxy args need no ARG, are passed to RUN, never warned about', () => {
    const d = def('FROM a\nRUN x', { buildArgs: { HTTP_PROXY: 'http://p', no_proxy: 'l', NO_PROXY: 'L' } });
    // Both cases of each, keys in sorted order with the last winning (no_proxy sorts after NO_PROXY).
    assert.deepEqual({ ...d.proxyEnv }, { HTTP_PROXY: 'http://p', http_proxy: 'http://p', NO_PROXY: 'l', no_proxy: 'l' });
    assert.equal(d.warnings.length, 0);
  });
  test('duplicate stage names are a DuplicateStageName warning; references mean the last one', () => {
    const d = def('FROM a AS x\nLABEL n=1\nFROM b AS X\nLABEL n=2\nFROM c\nCOPY --from=x /a /b', { target: 'x' });
    assert.equal(d.target, 1);
    assert.deepEqual(d.warnings.map((w) => [w.rule, w.line]), [['DuplicateStageName', 3]]);
    const all = def('FROM a AS x\nFROM b AS X\nFROM x\nCOPY --from=x /a /b');
    assert.equal(all.stages[2]?.baseStage, 1);
    assert.equal(all.stages[2]?.instructions[0]?.kind === 'copy' ? all.stages[2].instructions[0].fromStage : -1, 1);
  });
  test('automatic platform args: global scope, and in a stage when declared', () => {
    const text = 'FROM --platform=$BUILDPLATFORM a:$TARGETARCH AS b\nARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDOS BUILDARCH\n' +
      'WORKDIR /$TARGETPLATFORM/$TARGETOS/$TARGETARCH/$TARGETVARIANT/$BUILDOS/$BUILDARCH';
    const d = def(text, { platform: ARM64 });
    assert.equal(d.stages[0]?.baseName, 'a:arm64');
    assert.deepEqual(d.stages[0]?.platform, AMD64);
    const wd = d.stages[0]?.instructions[1];
    assert.equal(wd?.kind === 'workdir' && wd.path, '/linux/arm64/v8/linux/arm64/v8/linux/amd64');
    assert.equal(first('FROM a\nWORKDIR /x$TARGETARCH', 'workdir').path, '/x');
  });
  test('unused build args are warned about, consumed ones are not', () => {
    const d = def('ARG G\nFROM a\nARG L\nFROM b AS other\nARG O', { buildArgs: { G: '1', L: '2', O: '3', NOPE: '4' }, target: undefined });
    assert.deepEqual(d.warnings.map((w) => [w.rule, w.message]), [['UnusedBuildArg', 'one or more build-args [L NOPE] were not consumed']]);
  });
});

describe('stages, targets and dependencies', () => {
  const text = [
    'FROM alpine AS base', // 0
    'FROM base AS deps', // 1
    'RUN --mount=type=cache,from=tools,target=/t true',
    'FROM busybox AS tools', // 2
    'FROM base AS build', // 3
    'COPY --from=deps /a /a',
    'COPY --from=2 /b /b',
    'COPY --from=nginx:1 /c /c',
    'FROM scratch AS unrelated', // 4
    'FROM build', // 5
  ].join('\n');
  test('names, indexes, bases and dependencies', () => {
    const d = def(text);
    assert.deepEqual(d.stages.map((s) => [s.index, s.name, s.baseName, s.baseStage, s.dependsOn]), [
      [0, 'base', 'alpine', undefined, []],
      [1, 'deps', 'base', 0, [0, 2]],
      [2, 'tools', 'busybox', undefined, []],
      [3, 'build', 'base', 0, [0, 1, 2]],
      [4, 'unrelated', 'scratch', undefined, []],
      [5, undefined, 'build', 3, [3]],
    ]);
    assert.deepEqual(d.stages[3]?.imageSources, ['nginx:1']);
    const copies = d.stages[3]?.instructions.map((i) => i.kind === 'copy' && i.fromStage);
    assert.deepEqual(copies, [1, 2, undefined]);
  });
  test('the default target is the last stage; only what it needs', () => {
    const d = def(text);
    assert.equal(d.target, 5);
    assert.deepEqual(d.needed, [0, 1, 2, 3, 5]);
    assert.equal(d.stages[4]?.needed, false);
  });
  test('--target selects a stage case-insensitively', () => {
    const d = def(text, { target: 'DEPS' });
    assert.equal(d.target, 1);
    assert.deepEqual(d.needed, [0, 1, 2]);
  });
  test('FROM a later stage name is an image, FROM x AS x is an image', () => {
    const d = def('FROM later AS x\nFROM x AS later');
    assert.equal(d.stages[0]?.baseStage, undefined);
    assert.equal(d.stages[1]?.baseStage, 0);
  });
  test('expansion errors in stages the target does not need are warnings', () => {
    const d = def('FROM a AS broken\nENV X=${NOPE:?}\nFROM b AS ok', { target: 'ok' });
    assert.equal(d.warnings[0]?.rule, 'UnneededStageError');
    fails('FROM a AS broken\nENV X=${NOPE:?}\nFROM b AS ok', 2, /NOPE: is not allowed to be unset/, { target: 'broken' });
  });
  test('FROM --platform is expanded and parsed', () => {
    const d = def('ARG P=linux/arm64\nFROM --platform=$P a\nFROM a', { platform: AMD64 });
    assert.deepEqual(d.stages[0]?.platform, { os: 'linux', architecture: 'arm64' });
    assert.equal(d.stages[0]?.explicitPlatform, true);
    assert.deepEqual(d.stages[1]?.platform, AMD64);
  });
});

describe('robustness', () => {
  test('a syntax error later in the file wins over an earlier expansion error', () => {
    fails('FROM a\nENV X=${NOPE:?}\nCOPY x', 3, /COPY requires at least two arguments/);
  });
  test('__proto__ and constructor are ordinary variable names', () => {
    const wd = first('FROM a\nENV __proto__=p constructor=c\nARG toString=t\nWORKDIR /$__proto__/$constructor/$toString/${hasOwnProperty:-h}', 'workdir');
    assert.equal(wd.path, '/p/c/t/h');
    assert.equal(Object.getPrototypeOf(wd.scope.env), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(wd.scope.env, '__proto__')?.value, 'p');
  });
});

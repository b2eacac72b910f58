import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDefinition, parseDockerfile, DockerfileError } from '../../src/dockerfile/index.js';

// Property: whatever the input, the frontend either succeeds or throws a
// DockerfileError (code DOCKERFILE) with a line inside the file.
// A seeded PRNG keeps failures reproducible.

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = `# syntax=docker/dockerfile:1
# escape=\\
ARG BASE=alpine:3.19
ARG V
FROM --platform=$BUILDPLATFORM \${BASE} AS build
ENV A=1 B="x y" C=\${A:-z}
ARG X=\${A}x Y
LABEL a=b "c d"=e
WORKDIR /src/\${X#x}
COPY --chown=1:1 --from=busybox ["a", "b"] /dst/
COPY <<EOF <<-'F' /x/
hello $A
EOF
\tworld
\tF
RUN --mount=type=cache,target=/c,sharing=locked \\
    # comment
    echo hi && \\
    echo "\${B}"
RUN <<EOF
#!/bin/sh
echo hi
EOF
EXPOSE 80 443/udp 8000-8002
HEALTHCHECK --interval=30s --retries=3 CMD ["curl", "-f", "x"]
ONBUILD RUN echo $A
USER \${A}:\${A}
VOLUME ["/data"]
STOPSIGNAL SIGTERM
SHELL ["/bin/sh", "-c"]
FROM build AS final
COPY --from=build /a /b
CMD ["x"]
ENTRYPOINT echo $A
`;

const ALPHABET = ' \t\n\\`\'"$={}[]:-+?#%/<>,.0123456789AaBbEeFfOoRrMmNnUu_*@!';
const TOKENS = ['\n', '\\\n', '<<EOF\n', 'EOF\n', '${', '}', '"', "'", '$', '[', ']', '"a",', ' --', '=', '#', '\n\n', 'FROM ', 'AS ', 'ONBUILD ', 'ARG ', 'ENV ', '<<-', '`'];

function mutate(text: string, rnd: () => number): string {
  let s = text;
  const n = 1 + Math.floor(rnd() * 6);
  for (let k = 0; k < n; k++) {
    const pos = Math.floor(rnd() * (s.length + 1));
    const r = rnd();
    if (r < 0.35) s = s.slice(0, pos) + s.slice(pos + 1 + Math.floor(rnd() * 8));
    else if (r < 0.7) s = s.slice(0, pos) + (TOKENS[Math.floor(rnd() * TOKENS.length)] ?? '') + s.slice(pos);
    else s = s.slice(0, pos) + (ALPHABET[Math.floor(rnd() * ALPHABET.length)] ?? '') + s.slice(pos);
  }
  return s;
}

function randomBytes(rnd: () => number): string {
  const len = Math.floor(rnd() * 300);
  let s = '';
  for (let i = 0; i < len; i++) {
    const r = rnd();
    s += r < 0.6 ? (ALPHABET[Math.floor(rnd() * ALPHABET.length)] ?? '') : String.fromCharCode(Math.floor(rnd() * 0x3000));
  }
  return s;
}

function check(text: string): void {
  const lines = text.split('\n').length;
  for (const run of [() => parseDockerfile(text), () => buildDefinition({ text, buildArgs: { V: '1' } })]) {
    try {
      run();
    } catch (e) {
      if (!(e instanceof DockerfileError)) {
        assert.fail(`non-Dockerfile error ${String(e)} for input ${JSON.stringify(text)}`);
      }
      assert.equal(e.code, 'DOCKERFILE');
      assert.ok(e.line >= 0 && e.line <= lines, `line ${e.line} outside 0..${lines}: ${e.message}`);
      assert.ok(e.message.startsWith('Dockerfile:'), e.message);
    }
  }
}

test('the valid seed document builds', () => {
  const d = buildDefinition({ text: VALID });
  assert.equal(d.stages.length, 2);
});

test('mutated valid Dockerfiles only ever fail with a positioned DockerfileError', () => {
  const rnd = prng(0x5eed);
  for (let i = 0; i < 1500; i++) check(mutate(VALID, rnd));
});

test('random bytes only ever fail with a positioned DockerfileError', () => {
  const rnd = prng(42);
  for (let i = 0; i < 1000; i++) check(randomBytes(rnd));
});

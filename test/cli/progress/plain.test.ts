/**
 * Plain progress against what Docker 20.10's BuildKit printed for the same
 * event sequences (fixtures/plain-*.txt). BuildKit 0.8 also printed each
 * vertex's LLB digest (`#1 sha256:...`); slipway has no LLB, so those lines
 * are the one recorded difference and are dropped from the expectation.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Run, capture } from './helpers.js';

const withoutDigests = (s: string): string => s.split('\n').filter((l) => !/^#\d+ sha256:[0-9a-f]{64}$/.test(l)).join('\n');

// fixtures/plain-ok.txt, as Docker 20.10 printed it (digest lines removed).
const PLAIN_OK = `#1 [internal] load build definition from Dockerfile.ok
#1 transferring dockerfile: 143B done
#1 DONE 0.0s

#2 [internal] load .dockerignore
#2 transferring context: 2B done
#2 DONE 0.0s

#3 [internal] load metadata for docker.io/slipway-test/busybox:latest
#3 DONE 0.0s

#4 [1/3] FROM docker.io/slipway-test/busybox:latest
#4 CACHED

#5 [internal] load build context
#5 transferring context: 38B done
#5 DONE 0.0s

#6 [2/3] COPY a.txt /a.txt
#6 DONE 0.0s

#7 [3/3] RUN echo one && echo two && sleep 0.3 && echo three
#7 0.088 one
#7 0.089 two
#7 0.393 three
#7 DONE 0.4s

#8 exporting to image
#8 exporting layers 0.0s done
#8 writing image sha256:bb65aa1b16ecfcad9d5bfe5ac087e9eb0e02ecef0d59ed7e430a4fca27fb2531 done
#8 naming to docker.io/library/pg-ok done
#8 DONE 0.0s
`;

// fixtures/plain-fail.txt without its last line (the CLI's error message) and digest lines.
const PLAIN_FAIL = `#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 164B done
#1 DONE 0.0s

#2 [internal] load .dockerignore
#2 transferring context: 2B done
#2 DONE 0.0s

#3 [internal] load metadata for docker.io/slipway-test/busybox:latest
#3 DONE 0.0s

#7 [1/4] FROM docker.io/slipway-test/busybox:latest
#7 DONE 0.0s

#8 [internal] load build context
#8 transferring context: 26B done
#8 DONE 0.0s

#4 [2/4] COPY a.txt /a.txt
#4 CACHED

#5 [3/4] RUN echo one && echo two && sleep 0.3 && echo three
#5 CACHED

#6 [4/4] RUN echo boom && exit 3
#6 0.092 boom
#6 ERROR: executor failed running [/bin/sh -c echo boom && exit 3]: exit code: 3
------
 > [4/4] RUN echo boom && exit 3:
------
`;

/** A step that finishes in `ms` with the given status lines. */
function step(run: Run, id: number, name: string, statuses: string[] = [], ms = 2): Run {
  run.start(id, name);
  for (const s of statuses) run.wait(1).log(id, s);
  return run.wait(ms).done(id);
}

describe('plain progress', () => {
  test('the recorded constants are the captures', () => {
    assert.equal(withoutDigests(capture('plain-ok.txt')), PLAIN_OK);
    const fail = withoutDigests(capture('plain-fail.txt')).split('\n');
    assert.equal(fail.at(-2), 'executor failed running [/bin/sh -c echo boom && exit 3]: exit code: 3');
    assert.equal(`${fail.slice(0, -2).join('\n')}\n`, PLAIN_FAIL);
  });

  test('a successful build with a cached step and RUN output, byte for byte', async () => {
    const run = new Run('plain');
    step(run, 1, '[internal] load build definition from Dockerfile.ok', ['transferring dockerfile: 143B done']);
    step(run, 2, '[internal] load .dockerignore', ['transferring context: 2B done']);
    step(run, 3, '[internal] load metadata for docker.io/slipway-test/busybox:latest');
    run.start(4, '[1/3] FROM docker.io/slipway-test/busybox:latest').wait(3).cached(4);
    step(run, 5, '[internal] load build context', ['transferring context: 38B done']);
    step(run, 6, '[2/3] COPY a.txt /a.txt', [], 31);
    run.start(7, '[3/3] RUN echo one && echo two && sleep 0.3 && echo three');
    run.wait(88).log(7, 'one').wait(1).log(7, 'two').wait(304).log(7, 'three').wait(20).done(7);
    step(run, 8, 'exporting to image', [
      'exporting layers 0.0s done',
      'writing image sha256:bb65aa1b16ecfcad9d5bfe5ac087e9eb0e02ecef0d59ed7e430a4fca27fb2531 done',
      'naming to docker.io/library/pg-ok done',
    ]);
    assert.equal(await run.finish(true), PLAIN_OK);
  });

  test('a failing RUN: ERROR line, then the failed step box (no output lines, as 20.10 prints)', async () => {
    const run = new Run('plain');
    step(run, 1, '[internal] load build definition from Dockerfile', ['transferring dockerfile: 164B done']);
    step(run, 2, '[internal] load .dockerignore', ['transferring context: 2B done']);
    step(run, 3, '[internal] load metadata for docker.io/slipway-test/busybox:latest');
    step(run, 7, '[1/4] FROM docker.io/slipway-test/busybox:latest');
    step(run, 8, '[internal] load build context', ['transferring context: 26B done']);
    run.start(4, '[2/4] COPY a.txt /a.txt').cached(4);
    run.start(5, '[3/4] RUN echo one && echo two && sleep 0.3 && echo three').cached(5);
    run.start(6, '[4/4] RUN echo boom && exit 3').wait(92).log(6, 'boom');
    run.wait(5).fail(6, 'executor failed running [/bin/sh -c echo boom && exit 3]: exit code: 3');
    assert.equal(await run.finish(false), PLAIN_FAIL);
  });

  test('a vertex that starts while another runs waits until that one is done', async () => {
    const run = new Run('plain');
    run.start(1, 'A').wait(10).log(1, 'a1').wait(10).start(2, 'B').wait(10).log(2, 'b1');
    run.wait(10).log(1, 'a2').wait(10).done(1).wait(10).log(2, 'b2').wait(10).done(2);
    assert.equal(await run.finish(true), [
      '#1 A', '#1 0.010 a1', '#1 0.040 a2', '#1 DONE 0.1s', '',
      '#2 B', '#2 0.010 b1', '#2 0.040 b2', '#2 DONE 0.1s', '',
    ].join('\n'));
  });

  test('a quiet vertex gives the output away after the anti-flicker time, marked #N ...', async () => {
    const run = new Run('plain');
    run.start(1, 'A').wait(6000).start(2, 'B').wait(100).log(1, 'late').wait(100).done(2).wait(100).done(1);
    assert.equal(await run.finish(true), [
      '#1 A', '#1 ...', '', '#2 B', '#2 DONE 0.2s', '',
      '#1 A', '#1 6.100 late', '#1 DONE 6.3s', '',
    ].join('\n'));
  });

  test('a waiting vertex with 1000+ unprinted lines takes the output (memory stays bounded)', async () => {
    const run = new Run('plain');
    run.start(1, 'A').log(1, 'a').start(2, 'B');
    for (let i = 0; i < 1001; i++) run.log(2, `b${i}`);
    const mid = run.out.text;
    assert.match(mid, /^#1 A\n#1 0\.000 a\n#1 \.\.\.\n\n#2 B\n#2 0\.000 b0\n/);
    assert.match(mid, /#2 0\.000 b1000\n$/);
    run.log(2, 'next');
    assert.match(run.out.text, /#2 0\.000 b1000\n#2 0\.000 next\n$/);
    run.done(2).done(1);
    assert.match(await run.finish(true), /#2 DONE 0\.0s\n\n#1 A\n#1 DONE 0\.0s\n$/);
  });

  test('durations round as Go does (%.1f, half to even on the exact value)', async () => {
    const cases: Array<[number, string]> = [[0, '0.0s'], [49, '0.0s'], [50, '0.1s'], [250, '0.2s'], [350, '0.3s'], [750, '0.8s'], [1250, '1.2s'], [61_990, '62.0s']];
    for (const [ms, want] of cases) {
      const run = new Run('plain');
      run.start(1, 'x').wait(ms).done(1);
      assert.equal(await run.finish(true), `#1 x\n#1 DONE ${want}\n`, `${ms} ms`);
    }
  });

  test('log offsets: 3 decimals under 10 s, 2 under 100 s, then 1', async () => {
    const run = new Run('plain');
    run.start(1, 'x').wait(9_999).log(1, 'a').wait(2_000).log(1, 'b').wait(90_000).log(1, 'c').done(1);
    assert.equal(await run.finish(true), '#1 x\n#1 9.999 a\n#1 12.00 b\n#1 102.0 c\n#1 DONE 102.0s\n');
  });

  test('a failed build cancels the steps still running; the failed one gets the box', async () => {
    const run = new Run('plain');
    run.start(1, 'stage a').start(2, 'stage b').wait(20).fail(2, 'boom');
    assert.equal(await run.finish(false), [
      '#1 stage a', '#1 ...', '', '#2 stage b', '#2 ERROR: boom', '', '#1 stage a', '#1 CANCELED',
      '------', ' > stage b:', '------', '',
    ].join('\n'));
  });

  test('warnings follow the progress: count line, then one line each', async () => {
    const one = new Run('plain');
    one.start(1, 'x').done(1).warn("UndefinedArgInFrom: FROM argument 'X' is not declared (line 1)");
    assert.equal(await one.finish(true), "#1 x\n#1 DONE 0.0s\n\n 1 warning found (use docker --debug to expand):\n - UndefinedArgInFrom: FROM argument 'X' is not declared (line 1)\n");
    const two = new Run('plain');
    two.warn('first').warn('second').start(1, 'x').fail(1, 'bad');
    assert.equal(await two.finish(false), '#1 x\n#1 ERROR: bad\n------\n > x:\n------\n\n 2 warnings found (use docker --debug to expand):\n - first\n - second\n');
  });

  test('events of unknown vertices and events after finish are ignored', async () => {
    const run = new Run('plain');
    run.log(9, 'nobody').done(9).start(1, 'x').done(1);
    const text = await run.finish(true);
    run.start(2, 'late');
    assert.equal(text, '#1 x\n#1 DONE 0.0s\n');
    assert.equal(run.out.text, text);
  });

  test('auto mode prints plain text when the output is not a terminal', async () => {
    const run = new Run('auto', { isTTY: false });
    run.start(1, 'x').done(1);
    assert.equal(await run.finish(true), '#1 x\n#1 DONE 0.0s\n');
  });

  test('quiet prints nothing, not even errors or warnings', async () => {
    const run = new Run('quiet');
    run.start(1, 'x').log(1, 'out').fail(1, 'bad').warn('w');
    assert.equal(await run.finish(false), '');
  });
});

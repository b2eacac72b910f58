/**
 * The tty display against Docker 20.10's own terminal output
 * (fixtures/tty-*.typescript, recorded with script(1)): the final frame byte
 * for byte (colors, padding to the terminal width, right-aligned durations),
 * the output lines of running steps, cursor movement and redraw throttling.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Run, capture, lastFrame, stripAnsi } from './helpers.js';

/** The final frame of a recording as written (from hiding the cursor to showing it), CRLF as LF. */
function rawFinalFrame(recording: string): string {
  const from = recording.lastIndexOf('\x1b[?25l');
  const to = recording.indexOf('\x1b[?25h', from);
  return recording.slice(from, to + '\x1b[?25h'.length).replace(/\r\n/g, '\n');
}

/** The failing build of fixtures/tty-fail-100x40.typescript, ids in the order 20.10's tty display numbered them. */
function failingBuild(run: Run): Run {
  const t0 = run.t;
  run.start(1, '[internal] load build definition from Dockerfile').wait(1).log(1, 'transferring dockerfile: 31B done').wait(99).done(1);
  run.start(2, '[internal] load .dockerignore').wait(1).log(2, 'transferring context: 2B done').wait(2).done(2);
  run.start(3, '[internal] load metadata for docker.io/slipway-test/busybox:latest').wait(3).done(3);
  run.start(4, '[1/4] FROM docker.io/slipway-test/busybox:latest').cached(4);
  run.start(5, '[internal] load build context').wait(1).log(5, 'transferring context: 39B done').wait(1).done(5);
  run.start(6, '[2/4] COPY a.txt /a.txt').wait(12).done(6);
  run.start(7, '[3/4] RUN echo one && echo two && sleep 0.3 && echo three');
  run.wait(80).log(7, 'one').log(7, 'two').wait(310).log(7, 'three').wait(10).done(7);
  run.start(8, '[4/4] RUN echo boom && exit 3').wait(84).log(8, 'boom').wait(16).fail(8, 'executor failed running [/bin/sh -c echo boom && exit 3]: exit code: 3');
  return run.wait(700 - (run.t - t0));
}

describe('tty progress', () => {
  test('a failed build at 100 columns: final frame and error box as Docker 20.10 drew them', async () => {
    const recording = capture('tty-fail-100x40.typescript');
    const run = failingBuild(new Run('tty', { columns: 100, rows: 40 }));
    const out = await run.finish(false);
    assert.equal(rawFinalFrame(out), rawFinalFrame(recording));
    const want = lastFrame(recording).split('\n').slice(0, -2).join('\n'); // the last line is the CLI's error message
    assert.equal(lastFrame(out), `${want}\n`);
    assert.match(lastFrame(out), /^\[\+\] Building 0\.7s \(8\/8\) FINISHED {68}\n/);
    assert.match(lastFrame(out), /\n => ERROR \[4\/4\] RUN echo boom && exit 3 {56}0\.1s\n------\n > \[4\/4\] RUN echo boom && exit 3:\n#8 0\.084 boom\n------\n$/);
  });

  test('a successful build at the 80x10 fallback size: FINISHED, statuses, names cut before the duration', async () => {
    const recording = capture('tty-ok-80x10.typescript');
    const run = new Run('tty');
    const t0 = run.t;
    const step = (id: number, name: string, statuses: string[] = []): void => {
      run.start(id, name);
      for (const s of statuses) run.wait(1).log(id, s);
      run.wait(2).done(id);
    };
    step(1, '[internal] load build definition from Dockerfile.ok', ['transferring dockerfile: 143B done']);
    step(2, '[internal] load .dockerignore', ['transferring context: 2B done']);
    step(3, '[internal] load metadata for docker.io/slipway-test/busybox:latest');
    run.start(4, '[1/3] FROM docker.io/slipway-test/busybox:latest').cached(4);
    step(5, '[internal] load build context', ['transferring context: 38B done']);
    step(6, '[2/3] COPY a.txt /a.txt');
    run.start(7, '[3/3] RUN echo one && echo two && sleep 0.3 && echo three').wait(90).log(7, 'one').log(7, 'two').wait(310).log(7, 'three').wait(5).done(7);
    step(8, 'exporting to image', [
      'exporting layers done',
      'writing image sha256:a9a3d79e2566f911093d4209017ff1067489a8eb1868f3fb4a9b1d1e2c0a77f done',
      'naming to docker.io/library/pg-ok done',
    ]);
    run.wait(500 - (run.t - t0));
    const out = await run.finish(true);
    assert.equal(rawFinalFrame(out), rawFinalFrame(recording));
    assert.equal(lastFrame(out), lastFrame(recording).replace(/\n+$/, '\n'));
    for (const line of lastFrame(out).split('\n').slice(1, -1)) assert.equal(line.length, 79, line);
  });

  test('running steps show their last output lines, faint, cut to the width less 10', async () => {
    const recording = capture('tty-fail-100x40.typescript');
    const run = new Run('tty', { columns: 100, rows: 40 });
    run.start(7, '[3/4] RUN echo one && echo two && sleep 0.3 && echo three').wait(100).log(7, 'one').log(7, 'two').wait(100);
    run.log(7, 'x'.repeat(200));
    const frame = run.out.text.slice(run.out.text.lastIndexOf('\x1b[?25l'));
    const line = (text: string, nl: string): string => `\x1b[2m => => # ${text.padEnd(90)}${nl}\x1b[0m`;
    assert.ok(recording.includes(line('one', '\r\n') + line('two', '\r\n')), 'the recording has the format');
    assert.ok(frame.includes(line('one', '\n') + line('two', '\n') + line('x'.repeat(90), '\n')), JSON.stringify(frame));
    assert.match(stripAnsi(frame), /\n => \[3\/4\] RUN echo one && echo two && sleep 0\.3 && echo three {34}0\.2s\n/);
    for (let i = 0; i < 6; i++) run.log(7, `more ${i}`);
    run.wait(100).log(7, 'last');
    run.done(7);
    const last = stripAnsi(run.out.text.slice(run.out.text.lastIndexOf('\x1b[?25l')));
    assert.deepEqual(last.split('\n').filter((l) => l.startsWith(' => => #')).map((l) => l.trim()), ['=> => # more 1', '=> => # more 2', '=> => # more 3', '=> => # more 4', '=> => # more 5', '=> => # last']);
    const out = stripAnsi(await run.finish(true));
    assert.match(out.slice(out.lastIndexOf('[+]')), /FINISHED/);
    assert.doesNotMatch(out.slice(out.lastIndexOf('[+]')), /=> => #/, 'finished steps hide their output');
  });

  test('each redraw moves up over the previous frame; a shorter frame blanks the lines left over', async () => {
    const run = new Run('tty', { columns: 60, rows: 40 });
    run.start(1, 'RUN x').log(1, 'a').log(1, 'b');
    const frames = (): string[] => run.out.text.split('\x1b[?25h').slice(1);
    assert.ok(run.out.text.startsWith('\x1b[1A\x1b[1B\x1b[0G\x1b[?25l[+] Building 0.0s (0/1)'), JSON.stringify(run.out.text.slice(0, 40)));
    run.wait(100).log(1, 'c');
    assert.ok(frames()[0]?.startsWith(`${'\x1b[1A'.repeat(2)}\x1b[0G\x1b[?25l`), 'up over the header and the one step line');
    run.wait(100).done(1);
    const third = frames()[1] ?? '';
    assert.ok(third.startsWith(`${'\x1b[1A'.repeat(5)}\x1b[0G\x1b[?25l`), 'up over the header, the step and its 3 output lines');
    assert.ok(third.endsWith(`${`${' '.repeat(60)}\n`.repeat(3)}\x1b[3A\x1b[0G`), JSON.stringify(third));
    const out = await run.finish(true);
    const final = out.slice(out.lastIndexOf('\x1b[?25l') - 12);
    assert.ok(final.startsWith(`${'\x1b[1A'.repeat(2)}\x1b[0G\x1b[?25l[+] Building 0.2s (1/1) FINISHED`), JSON.stringify(final.slice(0, 80)));
  });

  test('redraws are throttled to one per 100 ms of the clock', async () => {
    const run = new Run('tty', { columns: 80, rows: 20 });
    run.start(1, 'a');
    for (let i = 0; i < 50; i++) run.log(1, `line ${i}`);
    run.wait(99).log(1, 'still throttled');
    assert.equal(run.out.text.split('[+] Building').length - 1, 1);
    run.wait(1).log(1, 'now');
    assert.equal(run.out.text.split('[+] Building').length - 1, 2);
    run.done(1);
    await run.finish(true);
    assert.equal(run.out.text.split('[+] Building').length - 1, 3, 'finish draws the final frame');
  });

  test('auto mode on a terminal; canceled steps in yellow, warnings with a yellow count', async () => {
    const run = new Run('auto', { isTTY: true, columns: 50, rows: 20 });
    run.start(1, 'stage a').start(2, 'stage b').wait(60).fail(2, 'boom').warn('W: text (line 1)');
    const out = await run.finish(false);
    assert.ok(out.includes(`\x1b[33m => CANCELED stage a${' '.repeat(25)}0.1s\n\x1b[0m`), JSON.stringify(out));
    assert.ok(out.includes(`\x1b[31m => ERROR stage b${' '.repeat(28)}0.1s\n\x1b[0m`));
    assert.ok(out.endsWith('\x1b[?25h------\n > stage b:\n------\n\n \x1b[33m1 warning found (use docker --debug to expand):\n\x1b[0m - W: text (line 1)\n'), JSON.stringify(out.slice(-200)));
  });

  test('rawjson writes one SolveStatus object per event', async () => {
    const run = new Run('rawjson');
    run.start(1, 'x').wait(5).log(1, 'hello').wait(5).done(1).warn('careful');
    const lines = (await run.finish(true)).trim().split('\n').map((l) => JSON.parse(l) as Record<string, Array<Record<string, unknown>>>);
    assert.equal(lines.length, 4);
    const v = lines[0]?.vertexes?.[0];
    assert.match(String(v?.digest), /^sha256:[0-9a-f]{64}$/);
    assert.equal(v?.name, 'x');
    assert.equal(v?.started, new Date(run.t - 10).toISOString());
    assert.equal(Buffer.from(String(lines[1]?.logs?.[0]?.data), 'base64').toString(), 'hello\n');
    assert.equal(lines[1]?.logs?.[0]?.vertex, v?.digest);
    assert.equal(lines[2]?.vertexes?.[0]?.completed, new Date(run.t).toISOString());
    assert.equal(Buffer.from(String(lines[3]?.warnings?.[0]?.short), 'base64').toString(), 'careful');
  });
});

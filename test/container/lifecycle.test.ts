/**
 * Container life cycle on real runc through the bundled CLI: --runtime
 * selection and its errors, create + start -a, wait, pause/unpause (ps,
 * filters, inspect, rm refusing a paused container), ps -s, port ranges
 * with TCP and UDP forwarding, port, rename and top. Every container is
 * removed in the after hook.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, parseTable, slipway, suiteStore } from '../helpers/cli.js';

const canRun = process.getuid?.() === 0 && ['/usr/sbin/runc', '/usr/bin/runc'].some((p) => existsSync(p));
const IMAGE = 'slipway-test/busybox:latest';
const hybrid = /cgroup2 /.test(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(' /sys/fs/cgroup/unified ')).join('\n'));

/** A free range of `n` consecutive TCP ports on 127.0.0.1 (UDP checked too). */
async function freeRange(n: number): Promise<number> {
  for (let base = 20000 + Math.floor(Math.random() * 20000); ; base += n + 7) {
    const ok = await Promise.all(Array.from({ length: n }, (_, i) => new Promise<boolean>((resolve) => {
      const s = createServer().once('error', () => resolve(false)).listen(base + i, '127.0.0.1', () => s.close(() => resolve(true)));
    })));
    if (ok.every(Boolean)) return base;
  }
}

/** One UDP round trip: send `msg` to 127.0.0.1:port, resolve with the first answer (retries: the relay may still be starting). */
function udpAsk(port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const send = () => s.send(msg, port, '127.0.0.1');
    const timer = setInterval(send, 200);
    const give = setTimeout(() => { clearInterval(timer); s.close(); reject(new Error('no UDP answer')); }, 8000);
    s.on('message', (m) => { clearInterval(timer); clearTimeout(give); s.close(); resolve(m.toString()); });
    send();
  });
}

function tcpAsk(port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => c.end(msg));
    let got = '';
    c.on('data', (d: Buffer) => { got += d.toString(); });
    c.on('end', () => resolve(got));
    c.on('error', reject);
  });
}

describe('container life cycle on runc', { skip: !canRun && 'needs root and runc', timeout: 120_000 }, () => {
  const helpers: import('node:child_process').ChildProcess[] = [];
  after(async () => {
    for (const h of helpers) h.kill('SIGKILL');
    const ids = (await store.run(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await store.run(['rm', '-f', ...ids]);
    rmSync(fakeBin, { recursive: true, force: true });
  });
  const store = suiteStore();
  const fakeBin = mkdtempSync(join(tmpdir(), 'slipway-fake-crun-'));
  before(async () => {
    await store.ok(['load', '-i', fixture('docker-save-busybox.tar')]);
    writeFileSync(join(fakeBin, 'crun'), '#!/bin/sh\necho "crun version 1.8.1"\n');
    chmodSync(join(fakeBin, 'crun'), 0o755);
  });

  test('--runtime: runc is used and recorded; an unknown name and an unusable crun are refused with the reason', async () => {
    assert.equal(await store.ok(['run', '--rm', '--runtime', 'runc', IMAGE, 'echo', 'ok']), 'ok\n');
    const bogus = await store.run(['run', '--rm', '--runtime', 'bogus', IMAGE, 'true']);
    assert.deepEqual([bogus.status, bogus.stderr], [125, "slipway: Error: Unknown runtime specified bogus\n\nRun 'slipway run --help' for more information\n"]);
    const created = await store.run(['create', '--runtime', 'bogus', IMAGE, 'true']);
    assert.deepEqual([created.status, created.stderr, created.stdout], [1, 'Error: Unknown runtime specified bogus\n', '']);
    const id = (await store.ok(['create', '--runtime', 'runc', IMAGE, 'true'])).trim();
    assert.equal(await store.ok(['inspect', '-f', '{{.HostConfig.Runtime}}', id]), 'runc\n');
    await store.ok(['rm', id]);
    const env = { PATH: `${fakeBin}:${process.env.PATH ?? ''}` };
    const crun = await slipway(['run', '--rm', '--runtime', 'crun', IMAGE, 'true'], { root: store.root, env });
    assert.equal(crun.status, 125);
    if (hybrid) {
      assert.match(crun.stderr, /^slipway: Error: crun cannot run containers on this host: its cgroups are in hybrid mode .*use --runtime=runc\n/);
      const info = await slipway(['info'], { root: store.root, env });
      assert.match(info.stdout, / Runtimes: runc\n Default Runtime: runc\n[^]* {2}Why: runc is installed; crun is installed but refuses this host's hybrid cgroup layout\n/);
    }
    assert.equal((await store.ok(['ps', '-aq'])), '', 'no container left behind by the refused runs');
  });

  test('create then start -a: output and exit status of the container; wait prints the exit code', async () => {
    const id = (await store.ok(['create', '--name', 'hello', IMAGE, 'sh', '-c', 'echo hello; echo oops >&2; exit 5'])).trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    assert.match(await store.ok(['ps', '-a', '--filter', 'status=created', '--format', '{{.Names}} {{.Status}}']), /^hello Created\n$/);
    const r = await store.run(['start', '-a', 'hello']);
    assert.deepEqual([r.status, r.stdout, r.stderr], [5, 'hello\n', 'oops\n']);
    assert.equal(await store.ok(['wait', 'hello']), '5\n');
    const missing = await store.run(['wait', 'hello', 'nosuch']);
    assert.deepEqual([missing.status, missing.stdout, missing.stderr], [1, '5\n', 'Error: No such container: nosuch\n']);
    // wait blocks until a running container ends
    await store.ok(['run', '-d', '--name', 'short', IMAGE, 'sh', '-c', 'sleep 1; exit 7']);
    assert.equal(await store.ok(['wait', 'short']), '7\n');
    // an --rm container's code, although its record is removed when it exits
    const gone = (await store.ok(['run', '-d', '--rm', IMAGE, 'sh', '-c', 'sleep 0.5; exit 9'])).trim();
    assert.equal(await store.ok(['wait', gone]), '9\n');
  });

  test('pause/unpause: the processes are frozen, ps shows "(Paused)", filters and inspect follow, rm refuses', async () => {
    const id = (await store.ok(['run', '-d', '--name', 'ticker', IMAGE, 'sh', '-c', 'while true; do date +%s%N > /tmp/t; sleep 0.1; done'])).trim();
    const ticks = join(store.root, 'containers', id, 'upper', 'tmp', 't');
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await sleep(300);
    assert.equal(await store.ok(['pause', 'ticker']), 'ticker\n');
    const frozenAt = readFileSync(ticks, 'utf8');
    await sleep(500);
    assert.equal(readFileSync(ticks, 'utf8'), frozenAt, 'a paused container does not run');
    const exec = await store.run(['exec', 'ticker', 'true']);
    assert.deepEqual([exec.status, exec.stderr], [1, `Error: Container ${id} is paused, unpause the container before exec\n`]);
    assert.match(await store.ok(['ps', '--format', '{{.Names}}|{{.State}}|{{.Status}}']), /^ticker\|paused\|Up .+ \(Paused\)\n$/);
    assert.equal(await store.ok(['ps', '--filter', 'status=paused', '-q']), `${id.slice(0, 12)}\n`);
    assert.equal(await store.ok(['ps', '--filter', 'status=running', '-q']), '');
    assert.equal(await store.ok(['inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.Paused}}', 'ticker']), 'paused true true\n');
    const freezer = `/sys/fs/cgroup/freezer/${id}/freezer.state`;
    if (existsSync(freezer)) assert.equal(readFileSync(freezer, 'utf8').trim(), 'FROZEN');
    const again = await store.run(['pause', 'ticker']);
    assert.deepEqual([again.status, again.stderr], [1, `Error: Container ${id} is already paused\n`]);
    const rm = await store.run(['rm', 'ticker']);
    assert.equal(rm.stderr, `Error: You cannot remove a paused container ${id}. Unpause and then stop the container before attempting removal or force remove\n`);
    assert.equal(await store.ok(['unpause', 'ticker']), 'ticker\n');
    await sleep(500);
    assert.notEqual(readFileSync(ticks, 'utf8'), frozenAt, 'it runs again');
    const notPaused = await store.run(['unpause', 'ticker']);
    assert.equal(notPaused.stderr, `Error: Container ${id} is not paused\n`);
    assert.match(await store.ok(['ps', '--filter', 'name=ticker', '--format', '{{.Status}}']), /^Up [^(]+\n$/);
    // rm -f of a paused container kills it
    await store.ok(['pause', 'ticker']);
    assert.equal(await store.ok(['rm', '-f', 'ticker']), 'ticker\n');
    assert.equal(await store.ok(['ps', '-aq', '--filter', 'name=ticker']), '');
  });

  test('ps -s: SIZE is the writable layer and "(virtual …)" with the image', async () => {
    await store.ok(['run', '--name', 'sized', IMAGE, 'sh', '-c', 'echo hello > /hello']);
    const t = parseTable(await store.ok(['ps', '-a', '-s', '--filter', 'name=sized']));
    assert.deepEqual(t.headers, ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES', 'SIZE']);
    assert.equal(t.rows[0]?.[7], '6B (virtual 1.98MB)');
    assert.equal(await store.ok(['ps', '-a', '--filter', 'name=sized', '--format', '{{.Size}}']), '6B (virtual 1.98MB)\n');
  });

  test('-p ranges: each port forwarded (TCP and UDP) into the private namespace; port and PORTS list them', async () => {
    const base = await freeRange(3);
    const id = (await store.ok(['run', '-d', '--name', 'ranged', '-p', `127.0.0.1:${base}-${base + 1}:80-81`, '-p', `127.0.0.1:${base + 2}:53/udp`,
      IMAGE, 'sh', '-c', 'busybox httpd -p 80 -h /etc; busybox httpd -f -p 81 -h /bin'])).trim();
    assert.equal(await store.ok(['port', 'ranged']), `53/udp -> 127.0.0.1:${base + 2}\n80/tcp -> 127.0.0.1:${base}\n81/tcp -> 127.0.0.1:${base + 1}\n`);
    assert.equal(await store.ok(['port', 'ranged', '81']), `127.0.0.1:${base + 1}\n`);
    const none = await store.run(['port', 'ranged', '82']);
    assert.deepEqual([none.status, none.stderr], [1, "Error: No public port '82' published for ranged\n"]);
    assert.equal(await store.ok(['ps', '--filter', 'name=ranged', '--format', '{{.Ports}}']),
      `127.0.0.1:${base + 2}->53/udp, 127.0.0.1:${base}->80/tcp, 127.0.0.1:${base + 1}->81/tcp\n`);
    for (const port of [base, base + 1]) {
      let res = '';
      for (let i = 0; i < 50 && res === ''; i++) {
        res = await tcpAsk(port, 'HEAD /nosuch HTTP/1.0\r\n\r\n').catch(() => '');
        if (res === '') await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(res, /^HTTP\/1\.[01] 404/, `httpd answers through ${port}`);
    }
    // a UDP echo server in the container's network namespace (busybox has no UDP server applet)
    const pid = Number((await store.ok(['inspect', '-f', '{{.State.Pid}}', id])).trim());
    const echo = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, '--', process.execPath, '-e',
      "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('echo:'+m,r.port,r.address));s.bind(53,'127.0.0.1',()=>console.log('up'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    helpers.push(echo);
    await new Promise((r) => echo.stdout?.once('data', r));
    assert.equal(await udpAsk(base + 2, 'ping'), 'echo:ping');
    assert.equal(await udpAsk(base + 2, 'pong'), 'echo:pong');
    echo.kill('SIGKILL');
  });

  test('rename: the new name resolves, the old one does not; Docker\'s errors', async () => {
    const id = (await store.ok(['create', '--name', 'before', IMAGE, 'true'])).trim();
    assert.equal(await store.ok(['rename', 'before', 'after']), '');
    assert.equal(await store.ok(['inspect', '-f', '{{.Name}} {{.Id}}', 'after']), `/after ${id}\n`);
    assert.equal((await store.run(['inspect', 'before'])).status, 1);
    const same = await store.run(['rename', 'after', 'after']);
    assert.deepEqual([same.status, same.stderr], [1, 'Error: Renaming a container with the same name as its current name\nError: failed to rename container named after\n']);
    const taken = await store.run(['rename', 'after', 'hello']);
    assert.match(taken.stderr, /^Error: Error when allocating new name: Conflict\. The container name "\/hello" is already in use by container "[a-f0-9]{64}"\. You have to remove \(or rename\) that container to be able to reuse that name\.\nError: failed to rename container named after\n$/);
  });

  test('top: the container\'s processes as the host\'s ps -ef shows them', async () => {
    await store.ok(['run', '-d', '--name', 'sleeper', IMAGE, 'sleep', '300']);
    const t = parseTable(await store.ok(['top', 'sleeper']));
    assert.deepEqual(t.headers, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.deepEqual(t.rows.map((r) => r[7]), ['sleep 300']);
    const stopped = await store.run(['top', 'hello']);
    assert.match(stopped.stderr, /^Error: Container [a-f0-9]{64} is not running\n$/);
  });
});

/**
 * Containers on runc through the bundled CLI (root and runc needed):
 * run -d -p serving HTTP (busybox httpd) reached from the host on
 * 127.0.0.1, exec, logs after the CLI exited, exit codes, rm -f of a running
 * container, ps format, commit (one layer, new config), rmi refusing an
 * image in use, and cleanup after the monitor is killed with SIGKILL.
 * Every container started here is removed in the after hook.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, parseTable, suiteStore } from '../helpers/cli.js';

const canRun = process.getuid?.() === 0 && ['/usr/sbin/runc', '/usr/bin/runc'].some((p) => existsSync(p));
const IMAGE = 'slipway-test/busybox:latest';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(root));
}

describe('containers on runc', { skip: !canRun && 'needs root and runc', timeout: 90_000 }, () => {
  // Registered before suiteStore's hook (hooks run in order): containers go before their store does.
  after(async () => {
    const ids = (await store.run(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await store.run(['rm', '-f', ...ids]);
    rmSync(www, { recursive: true, force: true });
    assert.deepEqual(mountsUnder(store.root), []);
  });
  const store = suiteStore();
  const www = mkdtempSync(join(tmpdir(), 'slipway-www-'));
  writeFileSync(join(www, 'index.html'), 'hello from a container\n');
  before(async () => {
    await store.ok(['load', '-i', fixture('docker-save-busybox.tar')]);
  });

  test('run -d -p: busybox httpd in a private network namespace answers on 127.0.0.1', async () => {
    const port = await freePort();
    const id = (await store.ok(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, '-v', `${www}:/www:ro`, IMAGE, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www'])).trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    const res = await get(port, '/index.html');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'hello from a container\n');
    const ps = parseTable(await store.ok(['ps']));
    assert.deepEqual(ps.headers, ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']);
    const row = ps.rows.find((r) => r[6] === 'web');
    assert.ok(row, 'web is listed');
    assert.equal(row[0], id.slice(0, 12));
    assert.equal(row[1], IMAGE);
    assert.equal(row[2], '"busybox httpd -f -p…"');
    assert.match(row[4] ?? '', /^Up /);
    assert.equal(row[5], `127.0.0.1:${port}->80/tcp`);
    // the container has its own network namespace: nothing listens on port 80 (0x0050) in the host's
    const listening = readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((l) => / 0A /.test(l)).map((l) => l.trim().split(/\s+/)[1] ?? '');
    assert.ok(!listening.some((a) => a.endsWith(':0050')), 'httpd does not listen in the host namespace');
  });

  test('exec runs in the running container with -e, -w and -u; exit status propagates', async () => {
    const out = await store.ok(['exec', '-e', 'GREETING=hi', '-w', '/www', 'web', 'sh', '-c', 'echo $GREETING; pwd; ls']);
    assert.equal(out, 'hi\n/www\nindex.html\n');
    assert.equal((await store.ok(['exec', '-u', 'nobody', 'web', 'id', '-u'])).trim(), '65534');
    assert.equal((await store.run(['exec', 'web', 'sh', '-c', 'exit 7'])).status, 7);
    const missing = await store.run(['exec', 'web', 'nosuch']);
    assert.equal(missing.status, 126);
    assert.match(missing.stderr, /executable file not found in \$PATH/);
  });

  test('logs after the CLI exited: stdout and stderr, --tail, -t', async () => {
    await store.ok(['run', '-d', '--name', 'talker', IMAGE, 'sh', '-c', 'echo one; echo two >&2; sleep 0.2; echo three']);
    for (let i = 0; i < 100 && !(await store.ok(['ps', '-a', '--filter', 'name=talker', '--format', '{{.Status}}'])).startsWith('Exited'); i++) await new Promise((r) => setTimeout(r, 50));
    const logs = await store.run(['logs', 'talker']);
    assert.equal(logs.stdout, 'one\nthree\n');
    assert.equal(logs.stderr, 'two\n');
    assert.equal((await store.run(['logs', '--tail', '1', 'talker'])).stdout, 'three\n');
    assert.match((await store.run(['logs', '-t', '--tail', '1', 'talker'])).stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three\n$/);
    const log = readFileSync(join(store.root, 'containers', (await store.ok(['inspect', '-f', '{{.Id}}', 'talker'])).trim(), `${(await store.ok(['inspect', '-f', '{{.Id}}', 'talker'])).trim()}-json.log`), 'utf8');
    // stdout and stderr are separate pipes: "one" and "two" may be logged in either order.
    const first = log.split('\n').find((l) => l.includes('"stdout"')) ?? '';
    assert.match(first, /^\{"log":"one\\n","stream":"stdout","time":"[^"]+Z"\}$/);
  });

  test('exit codes: the container\'s, 127 for a missing command, 125 for a missing image', async () => {
    const r = await store.run(['run', '--rm', IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual([r.status, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
    const nf = await store.run(['run', '--rm', IMAGE, 'nosuch']);
    assert.equal(nf.status, 127);
    assert.match(nf.stderr, /exec: "nosuch": executable file not found in \$PATH/);
    const ni = await store.run(['run', '--rm', 'slipway-test/none:1', 'true']);
    assert.equal(ni.status, 125);
    assert.match(ni.stderr, /Unable to find image 'slipway-test\/none:1' locally/);
    const bad = await store.run(['run', '--rm', '-v', '/nonexistent/path:/x', IMAGE, 'true']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /bind source path does not exist: \/nonexistent\/path/);
    assert.equal((await store.ok(['ps', '-aq'])).split('\n').filter(Boolean).length, 2, 'only web and talker are left (--rm removed the rest)');
  });

  test('commit: the change as one layer on the image\'s layers, config with -c changes, history', async () => {
    await store.ok(['run', '--name', 'changer', IMAGE, 'sh', '-c', 'echo new > /newfile && rm /bin/wc && mkdir /data && echo x > /data/y']);
    const id = (await store.ok(['commit', '-a', 'Ann <ann@example.com>', '-m', 'my change', '-c', 'CMD ["cat","/newfile"]', '-c', 'ENV FOO=bar', 'changer', 'slipway-test/changed:1'])).trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const layers = JSON.parse(await store.ok(['inspect', '-f', '{{json .RootFS.Layers}}', 'slipway-test/changed:1'])) as string[];
    const base = JSON.parse(await store.ok(['inspect', '-f', '{{json .RootFS.Layers}}', IMAGE])) as string[];
    assert.deepEqual(layers.slice(0, -1), base);
    assert.equal(layers.length, base.length + 1);
    assert.equal((await store.ok(['inspect', '-f', '{{json .Config.Cmd}} {{.Author}} {{.Comment}}', 'slipway-test/changed:1'])).trim(), '["cat","/newfile"] Ann <ann@example.com> my change');
    assert.match(await store.ok(['inspect', '-f', '{{json .Config.Env}}', 'slipway-test/changed:1']), /"FOO=bar"/);
    assert.equal(await store.ok(['run', '--rm', 'slipway-test/changed:1']), 'new\n');
    const tar = await store.run(['save', 'slipway-test/changed:1']);
    assert.equal(tar.status, 0);
    const exported = await store.run(['export', 'changer']);
    const names = exported.stdoutBytes.toString('latin1');
    assert.ok(names.includes('newfile') && names.includes('data/y'), 'export has the changes');
    const hist = await store.ok(['history', '--format', '{{.CreatedBy}}|{{.Comment}}', 'slipway-test/changed:1']);
    assert.match(hist.split('\n')[0] ?? '', /^sh -c echo new > \/newfile.*\|my change$/);
  });

  test('rmi refuses an image a container uses (Docker\'s message); -f only untags while a container runs', async () => {
    const r = await store.run(['rmi', IMAGE]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Error: conflict: unable to remove repository reference "slipway-test\/busybox:latest" \(must force\) - container [a-f0-9]{12} is using its referenced image abd4ffa074a5\n$/);
    const byId = await store.run(['rmi', 'abd4ffa074a5']);
    assert.match(byId.stderr, /conflict: unable to delete abd4ffa074a5 \(cannot be forced\) - image is being used by running container [a-f0-9]{12}/);
    const pruned = await store.ok(['image', 'prune', '-a', '-f']);
    assert.ok(!pruned.includes('abd4ffa074a5'));
  });

  test('rm -f of a running container; rm without -f refuses', async () => {
    await store.ok(['run', '-d', '--name', 'doomed', IMAGE, 'sleep', '300']);
    const refused = await store.run(['rm', 'doomed']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /You cannot remove a running container [a-f0-9]{64}\. Stop the container before attempting removal or force remove/);
    assert.equal(await store.ok(['rm', '-f', 'doomed']), 'doomed\n');
    assert.equal((await store.ok(['ps', '-a', '--filter', 'name=doomed', '-q'])), '');
  });

  test('a monitor killed with SIGKILL: the next command reports the container exited and leaves no mounts or processes', async () => {
    const id = (await store.ok(['run', '-d', '--name', 'orphan', IMAGE, 'sleep', '300'])).trim();
    const state = JSON.parse(readFileSync(join(store.root, 'containers', id, 'state.json'), 'utf8')) as { monitorPid: number; pid: number };
    assert.ok(mountsUnder(store.root).some((p) => p.includes(id)));
    process.kill(state.monitorPid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    const st = (await store.ok(['ps', '-a', '--filter', 'name=orphan', '--format', '{{.Status}}'])).trim();
    assert.match(st, /^Exited \(137\) /);
    assert.deepEqual(mountsUnder(store.root).filter((p) => p.includes(id)), []);
    assert.throws(() => process.kill(state.pid, 0));
    assert.equal(await store.ok(['start', 'orphan']), 'orphan\n');
    assert.match(await store.ok(['ps', '--filter', 'name=orphan', '--format', '{{.Status}}']), /^Up /);
    assert.equal(await store.ok(['stop', '-t', '1', 'orphan']), 'orphan\n');
    assert.match(await store.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'orphan']), /^exited 137\n$/);
  });
});

/**
 * RUN as a user sees it, on the real runc: a failing command's message and
 * exit code, the environment (ENV, ARG, proxy args, USER, WORKDIR), network
 * none, cache mounts that persist between builds, secrets that never reach
 * a layer, the history or the cache key, heredoc scripts, and a killed build
 * that leaves no mount, process, run directory or half-written blob.
 * Needs root and runc (skipped otherwise).
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliCommand, loadedStore, suiteStore, type Store } from '../helpers/cli.js';
import { contextMaker, readImage } from './helpers.js';

const canRun = process.getuid?.() === 0 && ['/usr/sbin/runc', '/usr/bin/runc'].some((p) => existsSync(p));
const work = mkdtempSync(join(tmpdir(), 'slipway-run-'));

/** A fresh context directory with the given files. */
const context = contextMaker(work);

/** The content of `path` in the image's layers (the topmost layer that has it). */
function fileIn(root: string, ref: string, path: string): string | undefined {
  const img = readImage(root, `docker.io/library/${ref.includes(':') ? ref : `${ref}:latest`}`);
  for (const f of [...img.layerFiles].reverse()) {
    try {
      return execFileSync('tar', ['-xOf', f, path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // not in this layer
    }
  }
  return undefined;
}

function allLayerText(root: string, ref: string): string {
  const img = readImage(root, `docker.io/library/${ref.includes(':') ? ref : `${ref}:latest`}`);
  return img.layerFiles.map((f) => readFileSync(f).toString('latin1')).join('\n');
}

const FROM = 'FROM slipway-test/busybox:latest\n';

describe('RUN in builds', { skip: canRun ? false : 'needs root and runc' }, () => {
  const store: Store = suiteStore();
  before(async () => {
    await loadedStore(store, ['docker-save-busybox.tar']);
  });

  test('a failing command fails the build with the step, BuildKit\'s message, the exit code and the output tail', async () => {
    const ctx = context({ Dockerfile: `${FROM}RUN echo first line && echo oops >&2 && exit 3\n` });
    const r = await store.run(['build', '--progress', 'plain', '-t', 'fail', ctx]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Error: Dockerfile:2: RUN echo first line && echo oops >&2 && exit 3: process "\/bin\/sh -c echo first line && echo oops >&2 && exit 3" did not complete successfully: exit code: 3$/m);
    assert.match(r.stderr, /^#\d+ \d+\.\d+ oops$/m, 'the output is shown as log lines of the step');
    assert.match(r.stderr, /^ {2}oops$/m, 'the error carries the tail of the output');
    const q = await store.run(['build', '-q', ctx]);
    // The tail holds both lines; stdout and stderr are separate pipes, so their order may vary.
    assert.match(q.stderr, /exit code: 3\n.*\n( {2}first line\n {2}oops| {2}oops\n {2}first line)\n/);
  });

  test('ENV, ARG and proxy args are in the environment; ARG and proxies are not persisted; USER and WORKDIR apply', async () => {
    const ctx = context({
      Dockerfile: `${FROM}ENV E1=env-value\nARG A1=default\nARG A2\nWORKDIR /work/dir\nRUN env | sort > /work/env.txt && pwd > /work/pwd.txt\n`
        + 'USER nobody\nRUN id > /dev/shm/x && cat /dev/shm/x && id -u > /dev/null\nUSER root\nRUN id -un > /work/user.txt\n',
    });
    const r = await store.run(['build', '--progress', 'plain', '--build-arg', 'A1=given', '--build-arg', 'http_proxy=http://127.0.0.1:9', '-t', 'envs', ctx]);
    assert.equal(r.status, 0, r.stderr);
    const env = fileIn(store.root, 'envs', 'work/env.txt') ?? '';
    for (const want of ['E1=env-value', 'A1=given', 'http_proxy=http://127.0.0.1:9', 'HTTP_PROXY=http://127.0.0.1:9', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root']) {
      assert.ok(env.split('\n').includes(want), `${want} in\n${env}`);
    }
    assert.equal(fileIn(store.root, 'envs', 'work/dir/pwd.txt') ?? fileIn(store.root, 'envs', 'work/pwd.txt'), '/work/dir\n');
    assert.match(r.stderr, /uid=65534\(nobody\) gid=65534\(nogroup\)/);
    assert.equal(fileIn(store.root, 'envs', 'work/user.txt'), 'root\n');
    const img = readImage(store.root, 'docker.io/library/envs:latest');
    assert.deepEqual(img.config.config.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'E1=env-value']);
    assert.ok(img.config.history.some((h) => h.created_by === 'RUN |2 A1=given A2= /bin/sh -c env | sort > /work/env.txt && pwd > /work/pwd.txt # buildkit'));
    assert.ok(!JSON.stringify(img.config.history).includes('proxy'));
  });

  test('--network=none has only loopback; the default (host) sees the host\'s interfaces; /etc files are not committed', async () => {
    const ctx = context({ Dockerfile: `${FROM}RUN --network=none cat /proc/net/dev > /none.txt && cat /etc/hosts /etc/resolv.conf /etc/hostname\nRUN cat /proc/net/dev > /host.txt\n` });
    const r = await store.run(['build', '--progress', 'plain', '-t', 'net', ctx]);
    assert.equal(r.status, 0, r.stderr);
    const ifaces = (text: string) => text.split('\n').slice(2).map((l) => l.split(':')[0]?.trim()).filter(Boolean);
    assert.deepEqual(ifaces(fileIn(store.root, 'net', 'none.txt') ?? ''), ['lo']);
    const hostIfaces = readFileSync('/proc/net/dev', 'utf8');
    assert.deepEqual(ifaces(fileIn(store.root, 'net', 'host.txt') ?? '').sort(), ifaces(hostIfaces).sort());
    assert.match(r.stderr, /127\.0\.0\.1\tlocalhost buildkitsandbox/);
    for (const f of ['etc/hosts', 'etc/resolv.conf', 'etc/hostname']) assert.equal(fileIn(store.root, 'net', f), undefined, `${f} is not in a layer`);
    const none = await store.run(['build', '--network', 'none', '-q', context({ Dockerfile: `${FROM}RUN cat /proc/net/dev | tail -n +3 | wc -l > /count\n` })]);
    assert.equal(none.status, 0, none.stderr);
  });

  test('a cache mount persists between builds and is not in the layer', async () => {
    const df = `${FROM}ARG RUNID\nRUN --mount=type=cache,target=/cache,id=c1,uid=65534,mode=0700 echo $RUNID >> /cache/log && cat /cache/log > /seen && stat -c '%u %a' /cache >> /seen\n`;
    const ctx = context({ Dockerfile: df });
    assert.equal((await store.run(['build', '-q', '--build-arg', 'RUNID=one', '-t', 'cm', ctx])).status, 0);
    const r = await store.run(['build', '-q', '--build-arg', 'RUNID=two', '-t', 'cm', ctx]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fileIn(store.root, 'cm', 'seen'), 'one\ntwo\n65534 700\n');
    assert.equal(fileIn(store.root, 'cm', 'cache/log'), undefined);
  });

  test('a secret is readable in RUN but never in a layer, the history or the cache key', async () => {
    const secretA = join(work, 'secret-a');
    const secretB = join(work, 'secret-b');
    writeFileSync(secretA, 'TOPSECRET-A');
    writeFileSync(secretB, 'TOPSECRET-B');
    const ctx = context({ Dockerfile: `${FROM}RUN --mount=type=secret,id=tok cat /run/secrets/tok | wc -c > /len && ls -l /run/secrets/tok\n` });
    const r = await store.run(['build', '--progress', 'plain', '--secret', `id=tok,src=${secretA}`, '-t', 'sec', ctx]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /-r-------- +1 root +root +11 /);
    assert.equal(fileIn(store.root, 'sec', 'len')?.trim(), '11');
    assert.ok(!allLayerText(store.root, 'sec').includes('TOPSECRET'));
    assert.ok(!JSON.stringify(readImage(store.root, 'docker.io/library/sec:latest').config).includes('TOPSECRET'));
    assert.equal(fileIn(store.root, 'sec', 'run/secrets/tok'), undefined);
    const again = await store.run(['build', '--progress', 'plain', '--secret', `id=tok,src=${secretB}`, '-t', 'sec2', ctx]);
    assert.match(again.stderr, /^#\d+ CACHED$/m, 'another secret value hits the same cache entry');
    const missing = await store.run(['build', '-q', context({ Dockerfile: `${FROM}RUN --mount=type=secret,id=nope,required cat /run/secrets/nope\n` })]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /secret nope: not found/);
  });

  test('heredoc scripts, exec form and ONBUILD RUN triggers run', async () => {
    const base = context({ Dockerfile: `${FROM}ONBUILD RUN echo triggered > /onbuild.txt\n` });
    assert.equal((await store.run(['build', '-q', '-t', 'onb-base', base])).status, 0);
    const ctx = context({ Dockerfile: `FROM onb-base\nRUN <<EOF\n#!/bin/sh\necho "script $0" > /heredoc.txt\nEOF\nRUN ["/bin/sh", "-c", "echo exec > /exec.txt"]\n` });
    const r = await store.run(['build', '-q', '-t', 'hd', ctx]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fileIn(store.root, 'hd', 'heredoc.txt'), 'script /dev/pipes/EOF\n');
    assert.equal(fileIn(store.root, 'hd', 'exec.txt'), 'exec\n');
    assert.equal(fileIn(store.root, 'hd', 'onbuild.txt'), 'triggered\n');
  });

  test('a killed build leaves no mount, container process, run directory or half-written blob', async () => {
    const ctx = context({ Dockerfile: `${FROM}RUN echo started && sleep 317 && echo never > /never\n` });
    const child = spawn(...cliCommand(['--root', store.root, 'build', '--progress', 'plain', ctx]), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (err.includes('started')) resolve();
      });
    });
    const blobsBefore = readdirSync(join(store.root, 'blobs', 'sha256')).length;
    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.ok(Date.now() - t0 < 5000, 'the build stops promptly');
    assert.equal(code, 143);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(store.root), 'no mount under the store');
    assert.deepEqual(readdirSync(join(store.root, 'runs')), [], 'no run directory');
    const cmdlines = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        return '';
      }
    });
    assert.ok(!cmdlines.some((l) => /\bsleep 317\b/.test(l)), 'the container process is gone');
    assert.equal(readdirSync(join(store.root, 'blobs', 'sha256')).length, blobsBefore, 'no new blob');
    assert.deepEqual(readdirSync(join(store.root, 'ingest')).filter((f) => f.startsWith(`${child.pid}-`)), [], 'no ingest file left');
  });
});

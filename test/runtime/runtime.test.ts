/**
 * The runtime layer on its own: cgroup layout detection, the OCI spec's
 * Docker defaults, USER resolution, paths scoped to a rootfs, the overlay
 * whiteout format both ways (unpack into a snapshot, diff of an upper dir),
 * snapshot garbage collection, a real sandbox run on runc, and the cleanup
 * of a crashed run (mount and run directory). The parts that mount or run
 * need root and runc.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { applyLayer, createTarWriter, listXattrs, overlayDiff } from '../../src/layer/index.js';
import { chainIds, digestOf, type Digest } from '../../src/oci/digest.js';
import {
  Sandbox, buildSpec, cgroupLayout, cleanupStale, ensureSnapshots, hostRun, hostSpawn, removeUnusedSnapshots, resolveInRoot, resolveUser, selectRuntime,
  snapshotPath,
} from '../../src/runtime/index.js';

const root = process.getuid?.() === 0;
const hasRunc = ['/usr/sbin/runc', '/usr/bin/runc'].some((p) => existsSync(p));
const work = mkdtempSync(join(tmpdir(), 'slipway-runtime-'));
let n = 0;
const dir = (name: string) => {
  const d = join(work, `${name}-${++n}`);
  mkdirSync(d, { recursive: true });
  return d;
};

const mi = (point: string, type: string) => `30 1 0:26 / ${point} rw,relatime shared:1 - ${type} ${type} rw`;

describe('cgroup layout', () => {
  const cases: [string, string[], string][] = [
    ['v2 only', [mi('/sys/fs/cgroup', 'cgroup2')], 'unified'],
    ['v1 + unified mount', [mi('/sys/fs/cgroup/memory', 'cgroup'), mi('/sys/fs/cgroup/unified', 'cgroup2')], 'hybrid'],
    ['v1 only', [mi('/sys/fs/cgroup/memory', 'cgroup'), mi('/sys/fs/cgroup/pids', 'cgroup')], 'legacy'],
    ['none', [mi('/proc', 'proc')], 'none'],
  ];
  for (const [name, lines, want] of cases) test(name, async () => assert.equal(await cgroupLayout(lines.join('\n')), want));
  test('crun is refused on a hybrid layout with the reason; runc is chosen', { skip: !hasRunc }, async () => {
    await assert.rejects(selectRuntime({ prefer: 'crun', layout: 'hybrid' }), /crun (is not installed|cannot run containers on this host: its cgroups are in hybrid mode)/);
    const r = await selectRuntime({ layout: 'hybrid' });
    assert.equal(r.name, 'runc');
    assert.match(r.reason, /crun/);
  });
});

describe('OCI spec', () => {
  test('Docker defaults: namespaces per network mode, capabilities, masked paths, kernel mounts, resources', () => {
    const spec = buildSpec({
      process: { args: ['true'], env: ['A=1'], cwd: '/', user: { uid: 1, gid: 2 } }, rootfs: '/r', hostname: 'h', network: 'none',
      resources: { memory: 64 << 20, cpus: 1.5, pidsLimit: 100 },
    });
    assert.deepEqual(spec.linux.namespaces.map((x) => x.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
    assert.ok(!buildSpec({ process: spec.process, rootfs: '/r', hostname: 'h', network: 'host' }).linux.namespaces.some((x) => x.type === 'network'));
    assert.equal(spec.process.capabilities.bounding.length, 14);
    assert.ok(spec.process.capabilities.bounding.includes('CAP_NET_BIND_SERVICE') && !spec.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
    assert.ok(spec.linux.maskedPaths.includes('/proc/kcore') && spec.linux.readonlyPaths.includes('/proc/sys'));
    assert.deepEqual(spec.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
    assert.deepEqual(spec.linux.resources.memory, { limit: 64 << 20, swap: 128 << 20 });
    assert.deepEqual(spec.linux.resources.cpu, { period: 100000, quota: 150000 });
    assert.deepEqual(spec.linux.resources.pids, { limit: 100 });
  });
});

describe('USER and rootfs paths', () => {
  const rootfs = dir('rootfs');
  mkdirSync(join(rootfs, 'etc'));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1001:\nextra:x:2000:app,other\n');
  const cases: [string, string, { uid: number; gid: number; additionalGids: number[] } | RegExp][] = [
    ['empty is root', '', { uid: 0, gid: 0, additionalGids: [] }],
    ['name', 'app', { uid: 1000, gid: 1001, additionalGids: [2000] }],
    ['uid in passwd', '1000', { uid: 1000, gid: 1001, additionalGids: [2000] }],
    ['uid not in passwd: gid 0', '4242', { uid: 4242, gid: 0, additionalGids: [] }],
    ['name:group', 'app:extra', { uid: 1000, gid: 2000, additionalGids: [] }],
    ['uid:gid', '5:6', { uid: 5, gid: 6, additionalGids: [] }],
    ['unknown name', 'nobody', /unable to find user nobody: no matching entries in passwd file/],
    ['unknown group', 'app:nogroup', /unable to find group nogroup/],
  ];
  for (const [name, spec, want] of cases) {
    test(name, async () => {
      if (want instanceof RegExp) await assert.rejects(resolveUser(rootfs, spec), want);
      else {
        const u = await resolveUser(rootfs, spec);
        assert.deepEqual({ uid: u.uid, gid: u.gid, additionalGids: u.additionalGids }, want);
      }
    });
  }
  test('symlinks resolve inside the rootfs, never outside', async () => {
    symlinkSync('/etc', join(rootfs, 'abs'));
    symlinkSync('../../../../..', join(rootfs, 'up'));
    assert.equal(await resolveInRoot(rootfs, '/abs/passwd'), join(rootfs, 'etc/passwd'));
    assert.equal(await resolveInRoot(rootfs, '/up/etc/group'), join(rootfs, 'etc/group'));
    assert.equal(await resolveInRoot(rootfs, '/../../x'), join(rootfs, 'x'));
  });
});

/** A layer tar from entries. */
async function layerTar(entries: { name: string; type?: 'file' | 'directory'; data?: string | Buffer; mode?: number }[]): Promise<Buffer> {
  const tw = createTarWriter();
  const chunks: Buffer[] = [];
  tw.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => tw.on('end', r));
  for (const e of entries) await tw.addEntry({ name: e.name, type: e.type ?? 'file', mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644), mtime: 1000 }, e.data === undefined ? undefined : Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data));
  await tw.finish();
  await done;
  return Buffer.concat(chunks);
}

describe('overlay format', { skip: root ? false : 'needs root (mknod, trusted xattrs)' }, () => {
  test('applyLayer in overlay format: whiteouts become 0/0 char devices, opaque markers the trusted.overlay.opaque xattr', async () => {
    const dest = dir('snap');
    const tar = await layerTar([{ name: 'a/', type: 'directory' }, { name: 'a/.wh..wh..opq', data: '' }, { name: 'a/new', data: 'n' }, { name: '.wh.gone', data: '' }]);
    await applyLayer({ input: Readable.from([tar]), dest, whiteoutFormat: 'overlay' });
    const st = lstatSync(join(dest, 'gone'));
    assert.ok(st.isCharacterDevice() && st.rdev === 0);
    assert.deepEqual((await listXattrs(join(dest, 'a')))['trusted.overlay.opaque'], Buffer.from('y'));
    assert.equal(readFileSync(join(dest, 'a/new'), 'utf8'), 'n');
  });

  test('overlayDiff writes Docker\'s entries for an upper dir', async () => {
    const upper = dir('upper');
    mkdirSync(join(upper, 'd/sub'), { recursive: true });
    writeFileSync(join(upper, 'd/sub/f'), 'hello');
    execFileSync('mknod', [join(upper, 'd/removed'), 'c', '0', '0']);
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(upper, 'd/sub')]);
    execFileSync('setfattr', ['-n', 'trusted.overlay.origin', '-v', '0x00', join(upper, 'd')]);
    const got = [];
    for await (const e of overlayDiff({ upper })) got.push({ name: e.header.name, type: e.header.type, mode: e.header.mode, size: e.header.size ?? 0, mtime: e.header.mtime, x: Object.keys(e.header.xattrs ?? {}) });
    assert.deepEqual(got.map((g) => g.name), ['d/', 'd/.wh.removed', 'd/sub/', 'd/sub/.wh..wh..opq', 'd/sub/f']);
    assert.deepEqual(got[1], { ...got[1], type: 'file', mode: 0o600, size: 0 });
    assert.deepEqual(got[3], { ...got[3], type: 'file', mode: 0o755, mtime: 0 });
    assert.ok(got.every((g) => g.x.length === 0), 'overlay\'s own xattrs are not written');
  });
});

describe('host shell', () => {
  test('a program run through the resident shell: all its output in order per stream, its status, its pid', async () => {
    const chunks: Record<string, Buffer[]> = { stdout: [], stderr: [] };
    let pid = 0;
    const code = await hostSpawn('/bin/sh', ['-c', 'seq 1 100000; echo "it\'s done" >&2; exit 7'], {
      onOutput: (c, s) => chunks[s]?.push(Buffer.from(c)), onPid: (p) => (pid = p),
    });
    assert.equal(code, 7);
    assert.ok(pid > 0);
    const want = `${Array.from({ length: 100000 }, (_, i) => i + 1).join('\n')}\n`;
    assert.equal(Buffer.concat(chunks.stdout ?? []).toString(), want);
    assert.equal(Buffer.concat(chunks.stderr ?? []).toString(), "it's done\n");
    const file = join(dir('host'), 'out');
    assert.deepEqual(await hostRun('printf', ['%s', 'a b'], { stdoutFile: file }), { code: 0, stderr: '' });
    assert.equal(readFileSync(file, 'utf8'), 'a b');
    const missing = await hostRun('/nonexistent/prog', []);
    assert.equal(missing.code, 127);
  });
});

describe('snapshots, sandbox and cleanup', { skip: root && hasRunc ? false : 'needs root and runc' }, () => {
  const store = dir('store');
  const layers = new Map<Digest, Buffer>();
  const open = (d: Digest) => Readable.from([layers.get(d) as Buffer]);
  const add = (b: Buffer) => {
    const d = digestOf(b);
    layers.set(d, b);
    return d;
  };

  test('a sandbox runs on the layers, its diff is the change, and its upper dir can become the next snapshot', async () => {
    const busybox = '/bin/busybox';
    if (!existsSync(busybox)) return;
    const l1 = add(await layerTar([{ name: 'bin/', type: 'directory' }, { name: 'bin/busybox', data: readFileSync(busybox), mode: 0o755 }]));
    const l2 = add(await layerTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/old', data: 'old' }]));
    const sb = await Sandbox.create({ root: store, layers: [l1, l2], openLayer: open });
    let out = '';
    try {
      const res = await sb.run({
        args: ['/bin/busybox', 'sh', '-c', '/bin/busybox rm /etc/old && echo hi > /new && /bin/busybox cat /proc/self/status | /bin/busybox grep -c CapBnd'],
        env: ['PATH=/bin'], cwd: '/work', hostname: 'h', network: 'none', onOutput: (c) => { out += c.toString(); },
      });
      assert.equal(res.exitCode, 0, out);
      const names = [];
      for await (const e of sb.diff()) names.push(e.header.name);
      assert.ok(names.includes('etc/.wh.old') && names.includes('new') && names.includes('work/'), names.join(' '));
      assert.ok(!names.includes('etc/hosts') && !names.includes('etc/resolv.conf'), 'host-provided files are not in the diff');
    } finally {
      await sb.release();
    }
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(store));
    assert.deepEqual(readdirSync(join(store, 'runs')), []);
    const chain = chainIds([l1, l2]);
    assert.ok(existsSync(join(snapshotPath(store, chain[1] as Digest), 'fs', 'etc', 'old')));
  });

  test('host files stay out of the diff and the kept snapshot; a snapshot kept in an earlier boot is unpacked again from its layer', async () => {
    const busybox = '/bin/busybox';
    if (!existsSync(busybox)) return;
    const l1 = add(await layerTar([{ name: 'bin/', type: 'directory' }, { name: 'bin/busybox', data: readFileSync(busybox), mode: 0o755 }]));
    const sb = await Sandbox.create({ root: store, layers: [l1], openLayer: open });
    const names: string[] = [];
    try {
      const res = await sb.run({
        args: ['/bin/busybox', 'sh', '-c', 'echo hi > /new && /bin/busybox cat /etc/hosts'], env: ['PATH=/bin'], cwd: '/', hostname: 'h', network: 'none',
        files: [{ path: '/etc/hosts', content: '127.0.0.1 h\n' }],
      });
      assert.equal(res.exitCode, 0);
      for await (const e of sb.diff()) names.push(e.header.name);
      assert.ok(names.includes('new') && !names.includes('etc/hosts'), names.join(' '));
      const l2 = add(await layerTar([{ name: 'etc/', type: 'directory' }, { name: 'new', data: 'hi\n' }]));
      await sb.keepAsSnapshot([l1, l2]);
      const snap = snapshotPath(store, chainIds([l1, l2])[1] as Digest);
      assert.ok(existsSync(join(snap, 'fs', 'new')) && !existsSync(join(snap, 'fs', 'etc', 'hosts')));
      assert.equal(readFileSync(join(snap, 'volatile-boot'), 'utf8'), readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
      // As if the machine had crashed since: the unsynced copy lost a file; it is not trusted.
      writeFileSync(join(snap, 'volatile-boot'), 'an-earlier-boot');
      execFileSync('rm', [join(snap, 'fs', 'new')]);
      await ensureSnapshots(store, [l1, l2], open);
      assert.equal(readFileSync(join(snap, 'fs', 'new'), 'utf8'), 'hi\n');
      assert.ok(!existsSync(join(snap, 'volatile-boot')));
    } finally {
      await sb.release();
    }
  });

  test('removeUnusedSnapshots keeps what the store keeps and removes the rest', async () => {
    const l3 = add(await layerTar([{ name: 'x', data: 'x' }]));
    const [p] = await ensureSnapshots(store, [l3], open);
    assert.ok(p && existsSync(p));
    const kept = await removeUnusedSnapshots(store, { diffIds: [...layers.keys()] });
    assert.deepEqual(kept.removed, []);
    const gone = await removeUnusedSnapshots(store, { diffIds: [] });
    assert.ok(gone.removed.includes(chainIds([l3])[0] as Digest));
    assert.deepEqual(readdirSync(join(store, 'snapshots')), []);
  });

  test('cleanupStale unmounts and removes the run directory of a dead owner', async () => {
    const runDir = join(store, 'runs', 'r-999999-dead');
    mkdirSync(join(runDir, 'rootfs'), { recursive: true });
    writeFileSync(join(runDir, 'run.json'), JSON.stringify({ id: 'r-999999-dead', pid: 999999, snapshots: [], runtime: '/usr/sbin/runc', runtimeRoot: join(store, 'runtime', 'runc'), createdAt: '' }));
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(runDir, 'rootfs')]);
    const r = await cleanupStale(store);
    assert.deepEqual(r.runs, ['r-999999-dead']);
    assert.equal(r.mounts, 1);
    assert.ok(!existsSync(runDir));
    assert.deepEqual(await cleanupStale(store), { runs: [], containers: [], mounts: 0 });
  });
});

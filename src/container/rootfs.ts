/**
 * A container's root filesystem and bundle: the run directory
 * `<root>/runs/<id>/` (run record owned by the monitor, lower-dir symlinks,
 * the overlay mount point `rootfs/`, the OCI `config.json`), over the
 * container's own writable layer `<root>/containers/<id>/{upper,work}`.
 */
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError } from '../errors.js';
import { chainIds } from '../oci/digest.js';
import { withLock } from '../store/lock.js';
import { BlobStore } from '../store/blobs.js';
import {
  buildSpec, containerHosts, ensureSnapshots, mkdirInRoot, mountOverlay, resolvConf, resolveUser, runsDir, snapshotsLock, unmountUnder,
  writeRunRecord, type OciSpec, type SpecMount,
} from '../runtime/index.js';
import { containerDir, type ContainerRecord } from './records.js';

/** A container's run directory. */
export function runDirOf(root: string, id: string): string {
  return join(runsDir(root), id);
}

/** The runtime's state root for a runtime name. */
export function stateRootOf(root: string, runtimeName: string): string {
  return join(root, 'runtime', runtimeName);
}

/** Parses `-v HOST:CTR[:ro|rw]` into a bind mount; the host path must exist. */
export async function bindMount(spec: string): Promise<SpecMount> {
  const parts = spec.split(':');
  const [src, dest, mode = 'rw'] = parts as [string, string | undefined, string | undefined];
  if (parts.length < 2 || parts.length > 3 || !src.startsWith('/') || !dest?.startsWith('/') || !['ro', 'rw'].includes(mode)) {
    throw new SlipwayError('INVALID_ARGUMENT', `invalid volume specification: '${spec}' (slipway supports -v /HOST/PATH:/CONTAINER/PATH[:ro])`, { exitCode: 125 });
  }
  try {
    await access(src);
  } catch {
    throw new SlipwayError('INVALID_ARGUMENT', `invalid mount config for type "bind": bind source path does not exist: ${src}`, { exitCode: 125 });
  }
  return { destination: dest, type: 'bind', source: src, options: ['rbind', mode, 'rprivate'] };
}

/** What prepareBundle made. */
export interface Bundle {
  runDir: string;
  rootfs: string;
  spec: OciSpec;
}

/**
 * Records the run (owner: this process, or `ownerPid`: the monitor when the
 * CLI prepares the bundle while the monitor starts), mounts the rootfs,
 * writes the /etc files and the OCI spec. On failure everything is undone.
 * The rootfs of a `--rm` container is mounted volatile (its writable layer
 * is thrown away: no sync of the host filesystem when it is unmounted).
 */
export async function prepareBundle(root: string, rec: ContainerRecord, options: { ownerPid?: number } = {}): Promise<Bundle> {
  const runDir = runDirOf(root, rec.id);
  const cdir = containerDir(root, rec.id);
  await unmountUnder(runDir);
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });
  const record = {
    id: rec.id, pid: options.ownerPid ?? process.pid, snapshots: chainIds([...rec.layers]), runtime: rec.runtime.path,
    runtimeRoot: stateRootOf(root, rec.runtime.name), createdAt: new Date().toISOString(),
  };
  await withLock(snapshotsLock(root), () => writeRunRecord(runDir, record));
  try {
    const blobs = new BlobStore(root);
    const lowers = await ensureSnapshots(root, rec.layers, (d) => blobs.open(d));
    const rootfs = await mountOverlay({ runDir, lowers, upper: join(cdir, 'upper'), work: join(cdir, 'work'), volatile: rec.host.autoRemove });
    const spec = await specFor(root, rec, rootfs);
    await writeFile(join(runDir, 'config.json'), JSON.stringify(spec));
    return { runDir, rootfs, spec };
  } catch (err) {
    await releaseBundle(root, rec.id);
    throw err;
  }
}

async function specFor(root: string, rec: ContainerRecord, rootfs: string): Promise<OciSpec> {
  const cdir = containerDir(root, rec.id);
  const cfg = rec.config;
  const hostname = cfg.Hostname || rec.id.slice(0, 12);
  await writeFile(join(cdir, 'hostname'), `${hostname}\n`);
  await writeFile(join(cdir, 'hosts'), containerHosts(hostname));
  await writeFile(join(cdir, 'resolv.conf'), await resolvConf(rec.host.network));
  const etc = ['hostname', 'hosts', 'resolv.conf'].map((f): SpecMount => ({ destination: `/etc/${f}`, type: 'bind', source: join(cdir, f), options: ['rbind', 'rprivate'] }));
  const binds = await Promise.all(rec.host.binds.map(bindMount));
  const user = await resolveUser(rootfs, cfg.User).catch((err: unknown) => {
    throw new SlipwayError('RUNTIME', (err as Error).message, { cause: err, exitCode: 126 });
  });
  const cwd = cfg.WorkingDir || '/';
  await mkdirInRoot(rootfs, cwd);
  const env = [...(cfg.Env ?? [])];
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
  if (cfg.Tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits)?.[1];
  const nofile = hard && hard !== 'unlimited' && Number(hard) > 0 ? Math.min(1048576, Number(hard)) : 1048576;
  return buildSpec({ nofile,
    process: { args: [rec.path, ...rec.args], env, cwd, user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) }, terminal: Boolean(cfg.Tty) },
    rootfs, hostname, network: rec.host.network, mounts: [...etc, ...binds], cgroupsPath: `slipway/${rec.id}`,
    resources: { ...(rec.host.memory ? { memory: rec.host.memory } : {}), ...(rec.host.cpus ? { cpus: rec.host.cpus } : {}) },
  });
}

/** Unmounts the rootfs and removes the run directory (the writable layer stays). */
export async function releaseBundle(root: string, id: string): Promise<void> {
  const runDir = runDirOf(root, id);
  await unmountUnder(runDir);
  await rm(runDir, { recursive: true, force: true });
}

/**
 * Mounts a stopped container's filesystem (image layers + its writable
 * layer) at a private run directory for reading (`export`); returns the
 * mount point and a release function.
 */
export async function mountForReading(root: string, rec: ContainerRecord): Promise<{ rootfs: string; release: () => Promise<void> }> {
  const id = `${rec.id}-read-${process.pid}`;
  const runDir = runDirOf(root, id);
  const cdir = containerDir(root, rec.id);
  const record = {
    id, pid: process.pid, snapshots: chainIds([...rec.layers]), runtime: rec.runtime.path,
    runtimeRoot: stateRootOf(root, rec.runtime.name), createdAt: new Date().toISOString(),
  };
  await mkdir(runDir, { recursive: true });
  await withLock(snapshotsLock(root), () => writeRunRecord(runDir, record));
  const release = async () => releaseBundle(root, id);
  try {
    const blobs = new BlobStore(root);
    const lowers = await ensureSnapshots(root, rec.layers, (d) => blobs.open(d));
    const rootfs = await mountOverlay({ runDir, lowers, upper: join(cdir, 'upper'), work: join(cdir, 'work') });
    return { rootfs, release };
  } catch (err) {
    await release();
    throw err;
  }
}

/**
 * Host-side mounts: the overlayfs rootfs of a sandbox, mounted with util-linux's
 * `mount` from inside the run directory so that every path in the option
 * string is short (the lower directories are a farm of symlinks `l/0`,
 * `l/1` ... to the snapshots), which keeps long layer lists within the
 * one-page limit of mount options; and unmounting, and reading mountinfo.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError, isErrno } from '../errors.js';

function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { ...(cwd ? { cwd } : {}), timeout: 60_000 }, (err, _stdout, stderr) => {
      if (!err) {
        resolve();
        return;
      }
      if (isErrno(err, 'ENOENT')) {
        reject(new SlipwayError('RUNTIME', `${cmd} is not installed: install the Debian package "util-linux"`, { cause: err }));
        return;
      }
      reject(new SlipwayError('RUNTIME', `${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
    });
  });
}

/** Options of mountOverlay. */
export interface OverlayOptions {
  /** The run directory: `l/`, `upper/`, `work/` and the mount point are made in it. */
  runDir: string;
  /** Lower directories, bottom first (may be empty: an empty directory is used). */
  lowers: readonly string[];
  /** The mount point's name inside runDir (default 'rootfs'). */
  target?: string;
  /** Absolute upper and work directories kept elsewhere (a container's writable layer); default `upper/` and `work/` in runDir. */
  upper?: string;
  work?: string;
}

/** Mounts the overlay; returns the mount point. Upper and work dirs are `upper/` and `work/`. */
export async function mountOverlay(o: OverlayOptions): Promise<string> {
  const target = o.target ?? 'rootfs';
  const upper = o.upper ?? 'upper';
  const work = o.work ?? 'work';
  await Promise.all(['l', target].map((d) => mkdir(join(o.runDir, d), { recursive: true })));
  await Promise.all([upper, work].map((d) => mkdir(d.startsWith('/') ? d : join(o.runDir, d), { recursive: true })));
  const names: string[] = [];
  if (o.lowers.length === 0) {
    await mkdir(join(o.runDir, 'l', 'empty'));
    names.push('l/empty');
  }
  await Promise.all(o.lowers.map((dir, i) => symlink(dir, join(o.runDir, 'l', String(i)))));
  for (let i = o.lowers.length - 1; i >= 0; i--) names.push(`l/${i}`);
  const opts = `lowerdir=${names.join(':')},upperdir=${upper},workdir=${work}`;
  if (opts.length > 4000) throw new SlipwayError('RUNTIME', `too many layers to mount (${o.lowers.length})`);
  await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, target], o.runDir);
  return join(o.runDir, target);
}

/** Unmounts `path` (lazily when busy); a path that is not mounted is fine. */
export async function unmount(path: string): Promise<void> {
  try {
    await run('umount', [path]);
  } catch (err) {
    const msg = (err as Error).message;
    if (/not mounted|no mount point|not found/i.test(msg)) return;
    await run('umount', ['-l', path]).catch(() => undefined);
    if ((await mountPoints()).includes(path)) throw err;
  }
}

/** Decodes mountinfo's octal escapes (`\040` for a space). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points of this process's mount namespace, in mount order. */
export async function mountPoints(mountinfo?: string): Promise<string[]> {
  const text = mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8'));
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4) out.push(unescape(f[4] as string));
  }
  return out;
}

/** Unmounts everything mounted at or below `dir`, deepest first. */
export async function unmountUnder(dir: string): Promise<number> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const points = (await mountPoints()).filter((p) => p === dir || p.startsWith(prefix)).reverse();
  for (const p of points) await unmount(p);
  return points.length;
}

/**
 * Host-side mounts: the overlayfs rootfs of a sandbox, mounted with util-linux's
 * `mount` from inside the run directory so that every path in the option
 * string is short (the lower directories by their paths when they fit, else
 * a farm of symlinks `l/0`, `l/1` ... to the snapshots), which keeps long
 * layer lists within the one-page limit of mount options; and unmounting, and reading mountinfo.
 * The programs run through the resident host shell (host-shell.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError } from '../errors.js';
import { hostRun } from './host-shell.js';

async function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  const r = await hostRun(cmd, args, cwd ? { cwd } : {});
  if (r.code === 0) return;
  if (r.code === 127) throw new SlipwayError('RUNTIME', `${cmd} is not installed: install the Debian package "util-linux"`);
  throw new SlipwayError('RUNTIME', `${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit status ${r.code}`}`);
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
  /**
   * Mount with overlayfs's `volatile` option (Linux 5.10+; silently left out
   * where the kernel refuses it): the upper filesystem is not synced at
   * unmount, which otherwise costs a journal commit of the whole host
   * filesystem per mount (50-300 ms). Only for upper dirs that are thrown
   * away or made durable by other means after a crash (RUN sandboxes,
   * `--rm` containers); the work dir keeps an `incompat/volatile` marker,
   * so a volatile work dir is never mounted twice.
   */
  volatile?: boolean;
}

let mountCmd: [string, ...string[]] | undefined;

/**
 * The mount program: busybox's where installed (it starts in about half
 * the time of util-linux's, which loads libmount and libblkid; the overlay
 * options go to the kernel unchanged either way), else util-linux's.
 */
function mountCommand(): [string, ...string[]] {
  mountCmd ??= existsSync('/bin/busybox') ? ['/bin/busybox', 'mount'] : ['mount'];
  return mountCmd;
}

/** False once the kernel refused `volatile` (older than 5.10). */
let volatileWorks = true;

/** Symlinks `l/0`, `l/1` ... to the lower dirs (short names for long layer lists); returns them top first. */
async function lowerFarm(runDir: string, lowers: readonly string[]): Promise<string[]> {
  await mkdir(join(runDir, 'l'), { recursive: true });
  if (lowers.length === 0) {
    await mkdir(join(runDir, 'l', 'empty'));
    return ['l/empty'];
  }
  await Promise.all(lowers.map((dir, i) => symlink(dir, join(runDir, 'l', String(i)))));
  return lowers.map((_, i) => `l/${i}`).reverse();
}

/** Mounts the overlay; returns the mount point. Upper and work dirs are `upper/` and `work/`. */
export async function mountOverlay(o: OverlayOptions): Promise<string> {
  const target = o.target ?? 'rootfs';
  const upper = o.upper ?? 'upper';
  const work = o.work ?? 'work';
  await Promise.all([target, upper, work].map((d) => mkdir(d.startsWith('/') ? d : join(o.runDir, d), { recursive: true })));
  const top = `upperdir=${upper},workdir=${work}`;
  // The lower dirs by their own paths when they fit in the page and need no escaping; else the symlink farm.
  const plainLowers = [...o.lowers].reverse().join(':');
  const opts = o.lowers.length > 0 && !/[,:\\]/.test(o.lowers.join('')) && plainLowers.length + top.length < 3900
    ? `lowerdir=${plainLowers},${top}`
    : `lowerdir=${(await lowerFarm(o.runDir, o.lowers)).join(':')},${top}`;
  if (opts.length > 4000) throw new SlipwayError('RUNTIME', `too many layers to mount (${o.lowers.length})`);
  const [cmd, ...pre] = mountCommand();
  const plain = () => run(cmd, [...pre, '-t', 'overlay', 'overlay', '-o', opts, target], o.runDir);
  if (o.volatile && volatileWorks) {
    await run(cmd, [...pre, '-t', 'overlay', 'overlay', '-o', `${opts},volatile`, target], o.runDir).catch(async (err: unknown) => {
      await plain().catch(() => {
        throw err;
      });
      volatileWorks = false; // the kernel refused the option, not the mount
    });
  } else {
    await plain();
  }
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

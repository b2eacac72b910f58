/**
 * What the host offers: its cgroup layout, and which OCI runtime binary
 * (runc, crun) can run containers here and why.
 */
import { execFile } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError } from '../errors.js';

/** The cgroup layout: unified (v2 only), hybrid (v1 controllers + a v2 mount), legacy (v1 only), or none. */
export type CgroupLayout = 'unified' | 'hybrid' | 'legacy' | 'none';

/** The names of the runtimes slipway drives. */
export type RuntimeName = 'runc' | 'crun';

/** A runtime chosen to run containers. */
export interface RuntimeInfo {
  name: RuntimeName;
  /** Absolute path of the binary. */
  path: string;
  /** First line of `<runtime> --version`. */
  version: string;
  /** Why this one was chosen (shown by `slipway info`). */
  reason: string;
}

/** The Debian package that provides each runtime. */
export const RUNTIME_PACKAGES: Record<RuntimeName, string> = { runc: 'runc', crun: 'crun' };

/** Detects the cgroup layout from the mounts under /sys/fs/cgroup. */
export async function cgroupLayout(mountinfo?: string): Promise<CgroupLayout> {
  const text = mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''));
  let v1 = false;
  let v2Root = false;
  let v2Elsewhere = false;
  for (const line of text.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const point = pre.split(' ')[4] ?? '';
    const type = post.split(' ')[0];
    if (!point.startsWith('/sys/fs/cgroup')) continue;
    if (type === 'cgroup') v1 = true;
    else if (type === 'cgroup2') {
      if (point === '/sys/fs/cgroup') v2Root = true;
      else v2Elsewhere = true;
    }
  }
  if (v2Root) return 'unified';
  if (v1) return v2Elsewhere ? 'hybrid' : 'legacy';
  return 'none';
}

/** The cgroup version users see: 2 for unified, 1 otherwise (0 when none). */
export function cgroupVersion(layout: CgroupLayout): 0 | 1 | 2 {
  return layout === 'unified' ? 2 : layout === 'none' ? 0 : 1;
}

/** The first executable `name` in PATH (then the usual system directories); the directories are looked at concurrently. */
async function which(name: string): Promise<string | undefined> {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']).filter((d) => d !== '');
  const found = await Promise.all(dirs.map((d) => access(join(d, name), constants.X_OK).then(() => true, () => false)));
  const i = found.indexOf(true);
  return i < 0 ? undefined : join(dirs[i] as string, name);
}

function runtimeVersion(path: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(path, ['--version'], { timeout: 5000 }, (err, stdout) => resolve(err ? '' : (stdout.split('\n')[0] ?? '').trim()));
  });
}

/** Options of selectRuntime. */
export interface SelectRuntimeOptions {
  /** `--runtime`: insist on this one (an error when it cannot run here). */
  prefer?: RuntimeName;
  /** The cgroup layout (detected when not given). */
  layout?: CgroupLayout;
  /** Leave `version` empty instead of running `<runtime> --version` (saves a process start on hot paths). */
  skipVersion?: boolean;
}

/**
 * Picks the runtime: crun when it can run here (it is faster to start),
 * runc otherwise. crun 1.x refuses hybrid cgroup layouts ("cgroups in
 * hybrid mode not supported"), so it is skipped there. No runtime at all:
 * a RUNTIME error naming the Debian package to install.
 */
export async function selectRuntime(options: SelectRuntimeOptions = {}): Promise<RuntimeInfo> {
  const versionOf = options.skipVersion ? async () => '' : runtimeVersion;
  const layout = options.layout ?? (await cgroupLayout());
  const [runc, crun] = await Promise.all([which('runc'), which('crun')]);
  const crunOk = crun !== undefined && layout !== 'hybrid';
  if (options.prefer === 'crun') {
    if (!crun) throw new SlipwayError('RUNTIME', 'the OCI runtime crun is not installed: install the Debian package "crun" (apt-get install crun)');
    if (!crunOk) throw new SlipwayError('RUNTIME', 'crun cannot run containers on this host: its cgroups are in hybrid mode (v1 controllers with a v2 mount), which crun does not support; use --runtime=runc');
    return { name: 'crun', path: crun, version: await versionOf(crun), reason: 'chosen with --runtime' };
  }
  if (options.prefer === 'runc') {
    if (!runc) throw new SlipwayError('RUNTIME', 'the OCI runtime runc is not installed: install the Debian package "runc" (apt-get install runc)');
    return { name: 'runc', path: runc, version: await versionOf(runc), reason: 'chosen with --runtime' };
  }
  if (crunOk) return { name: 'crun', path: crun, version: await versionOf(crun), reason: `crun is installed and supports the ${layout} cgroup layout` };
  if (runc) {
    const why = crun ? 'crun is installed but refuses this host\'s hybrid cgroup layout' : 'crun is not installed';
    return { name: 'runc', path: runc, version: await versionOf(runc), reason: `runc is installed; ${why}` };
  }
  throw new SlipwayError('RUNTIME', 'no OCI runtime found: install the Debian package "runc" (apt-get install runc) to run RUN steps and containers');
}

/** `slipway info`: the store, the storage driver, cgroups and the OCI runtime slipway uses here, and why. */
import { arch, cpus, release, totalmem } from 'node:os';
import { readFile } from 'node:fs/promises';
import { isSlipwayError } from '../../errors.js';
import { cgroupLayout, cgroupVersion, selectRuntime, type RuntimeInfo } from '../../runtime/index.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';

async function osName(): Promise<string> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? 'Linux';
}

/** Docker's BytesSize (binary units, 3 significant digits): `23.5GiB`. */
function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${Number(n.toPrecision(3))}${units[i]}`;
}

/** `slipway info` */
export async function infoCommand(ctx: CliContext, _args: string[], _opts: Opts): Promise<void> {
  const layout = await cgroupLayout();
  let runtime: RuntimeInfo | undefined;
  let runtimeError = '';
  try {
    runtime = await selectRuntime({ layout });
  } catch (err) {
    if (!isSlipwayError(err)) throw err;
    runtimeError = err.message;
  }
  const usable = await Promise.all((['runc', 'crun'] as const).map((name) => selectRuntime({ layout, prefer: name, skipVersion: true }).then(() => name, () => undefined)));
  const images = await ctx.store().list().catch(() => []);
  const lines = [
    'Client:',
    ' Version:    0.1.0',
    ' Context:    daemonless',
    '',
    'Server:',
    ` Images: ${images.length}`,
    ' Storage Driver: overlay',
    '  Layers: uncompressed in the store, unpacked once into snapshots/ (overlayfs lower directories)',
    ' Cgroup Driver: cgroupfs',
    ` Cgroup Version: ${cgroupVersion(layout)} (${layout})`,
    ` Runtimes: ${usable.filter(Boolean).join(' ') || 'none'}`,
    ` Default Runtime: ${runtime ? runtime.name : 'none'}`,
    ...(runtime ? [`  Path: ${runtime.path}`, `  Version: ${runtime.version}`, `  Why: ${runtime.reason}`] : [`  Why: ${runtimeError}`]),
    ` Kernel Version: ${release()}`,
    ` Operating System: ${await osName()}`,
    ` Architecture: ${arch() === 'x64' ? 'x86_64' : arch()}`,
    ` CPUs: ${cpus().length}`,
    ` Total Memory: ${bytesSize(totalmem())}`,
    ` Root Dir: ${ctx.root}`,
  ];
  await ctx.out(`${lines.join('\n')}\n`);
}

/**
 * The monitor process: `slipway __monitor` and its own small entry point
 * (dist/monitor.cjs, see monitor-entry.ts), which loads only the monitor's
 * code, not the CLI, so it is ready sooner after `run` spawns it.
 *
 * Arguments: `[--root ROOT] [--attach] [--interactive] [--cli PATH] ID|-`.
 * With `-` the container ID comes on fd 3 (a socket pair with the CLI), as
 * `ID` or `ID prepared` (the CLI mounted the rootfs and wrote the bundle
 * while we started); the start report goes back there once; the process
 * exits with the container's status.
 */
import { appendFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { storeRoot } from '../store/root.js';
import { runMonitor, type ReadyMessage } from './monitor.js';
import { containerDir } from './records.js';

/** The parsed arguments of a monitor process. */
export interface MonitorArgs {
  root: string;
  /** The container ID, or '-' to read it from fd 3. */
  id: string;
  attach: boolean;
  interactive: boolean;
  /** The slipway script (for the port relay, `slipway __relay`). */
  cliPath: string;
}

/** Parses the monitor's command line (see the module comment); unknown flags are ignored. */
export function parseMonitorArgs(argv: readonly string[]): MonitorArgs {
  const a: MonitorArgs = { root: '', id: '', attach: false, interactive: false, cliPath: '' };
  let rootFlag: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i] as string;
    if (w === '--root') rootFlag = argv[++i];
    else if (w === '--cli') a.cliPath = argv[++i] ?? '';
    else if (w === '--attach') a.attach = true;
    else if (w === '--interactive') a.interactive = true;
    else if (!w.startsWith('--')) a.id = w;
  }
  a.root = storeRoot({ flag: rootFlag });
  return a;
}

/** Reads the line the CLI sends on the channel; undefined when the CLI gave up. */
function readLine(channel: Socket): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    channel.on('data', (c: Buffer) => {
      text += c.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(text.slice(0, nl));
    });
    channel.on('error', () => resolve(undefined));
    channel.on('close', () => resolve(undefined));
  });
}

/** Runs the monitor for one container and ends the process with the container's status. */
export async function monitorProcess(a: MonitorArgs): Promise<never> {
  const channel = new Socket({ fd: 3, readable: true, writable: true });
  const [id, mode] = (a.id === '-' ? (await readLine(channel)) ?? '' : a.id).split(' ');
  if (!id) {
    // eslint-disable-next-line no-restricted-properties -- the CLI gave up before creating the container
    process.exit(0);
  }
  let told = false;
  const ready = (m: ReadyMessage) => {
    if (told) return;
    told = true;
    channel.end(`${JSON.stringify(m)}\n`);
  };
  const code = await runMonitor({
    root: a.root, id, prepared: mode === 'prepared', attach: a.attach, interactive: a.interactive, ready, cliPath: a.cliPath,
  }).catch((err: unknown) => {
    ready({ ok: false, error: (err as Error).message, exitCode: 125 });
    try {
      appendFileSync(join(containerDir(a.root, id), 'monitor.log'), `${new Date().toISOString()} ${(err as Error).stack ?? String(err)}\n`);
    } catch {
      // the container is gone
    }
    return 125;
  });
  // eslint-disable-next-line no-restricted-properties -- the monitor process ends with the container's status, whatever handles are left
  process.exit(code);
}

/** Hidden subcommands: `__monitor ID` (a container's monitor process) and `__relay SOCKET` (the port relay inside a container's network namespace). */
import { appendFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { containerDir } from '../../container/records.js';
import { runMonitor, type ReadyMessage } from '../../container/monitor.js';
import { runRelay } from '../../container/relay.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';

/** Reads the container ID the CLI sends on the channel (one line); undefined when the CLI gave up. */
function readId(channel: Socket): Promise<string | undefined> {
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

/**
 * `slipway __monitor [--attach] [--interactive] ID|-`: with `-`, waits for
 * the ID on fd 3 (a socket pair with the CLI); reports there once the
 * container started; exits with the container's status.
 */
export async function monitorCommand(ctx: CliContext, args: string[], opts: Opts): Promise<number> {
  const channel = new Socket({ fd: 3, readable: true, writable: true });
  // `ID` or `ID prepared` (the CLI mounted the rootfs and wrote the bundle for us).
  const [id, mode] = (args[0] === '-' ? await readId(channel) ?? '' : args[0] ?? '').split(' ');
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
    root: ctx.root, id, prepared: mode === 'prepared', attach: Boolean(opts.attach), interactive: Boolean(opts.interactive), ready, cliPath: process.argv[1] ?? '',
  }).catch((err: unknown) => {
    ready({ ok: false, error: (err as Error).message, exitCode: 125 });
    try {
      appendFileSync(join(containerDir(ctx.root, id), 'monitor.log'), `${new Date().toISOString()} ${(err as Error).stack ?? String(err)}\n`);
    } catch {
      // the container is gone
    }
    return 125;
  });
  // eslint-disable-next-line no-restricted-properties -- the monitor process ends with the container's status, whatever handles are left
  process.exit(code);
}

/** `slipway __relay SOCKET`: prints "ready" once listening; exits when its parent does. */
export async function relayCommand(_ctx: CliContext, args: string[]): Promise<number> {
  await runRelay(args[0] as string, () => process.stdout.write('ready\n'));
  // eslint-disable-next-line no-restricted-properties -- the relay ends with its monitor, open connections included
  process.exit(0);
}

/** Hidden subcommands: `__monitor ID` (a container's monitor process) and `__relay SOCKET` (the port relay inside a container's network namespace). */
import { closeSync, writeSync } from 'node:fs';
import { runMonitor, type ReadyMessage } from '../../container/monitor.js';
import { runRelay } from '../../container/relay.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';

/** `slipway __monitor [--attach] [--interactive] ID`: reports on fd 3 once started, exits with the container's status. */
export async function monitorCommand(ctx: CliContext, args: string[], opts: Opts): Promise<number> {
  let told = false;
  const ready = (m: ReadyMessage) => {
    if (told) return;
    told = true;
    try {
      writeSync(3, `${JSON.stringify(m)}\n`);
      closeSync(3);
    } catch {
      // the CLI is gone
    }
  };
  const code = await runMonitor({
    root: ctx.root, id: args[0] as string, attach: Boolean(opts.attach), interactive: Boolean(opts.interactive), ready, cliPath: process.argv[1] ?? '',
  }).catch((err: unknown) => {
    ready({ ok: false, error: (err as Error).message, exitCode: 125 });
    process.stderr.write(`slipway monitor: ${(err as Error).stack ?? String(err)}\n`);
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

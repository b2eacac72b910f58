/** Hidden subcommands: `__monitor ID` (a container's monitor process) and `__relay SOCKET` (the port relay inside a container's network namespace). */
import { monitorProcess } from '../../container/monitor-main.js';
import { runRelay } from '../../container/relay.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';

/** `slipway __monitor [--attach] [--interactive] ID|-`: see container/monitor-main.ts (dist/monitor.cjs runs the same without the CLI). */
export async function monitorCommand(ctx: CliContext, args: string[], opts: Opts): Promise<number> {
  return monitorProcess({ root: ctx.root, id: args[0] ?? '', attach: Boolean(opts.attach), interactive: Boolean(opts.interactive), cliPath: process.argv[1] ?? '' });
}

/** `slipway __relay SOCKET`: prints "ready" once listening; exits when its parent does. */
export async function relayCommand(_ctx: CliContext, args: string[]): Promise<number> {
  await runRelay(args[0] as string, () => process.stdout.write('ready\n'));
  // eslint-disable-next-line no-restricted-properties -- the relay ends with its monitor, open connections included
  process.exit(0);
}

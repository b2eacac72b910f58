/** Runs one CLI invocation: parses arguments, runs the command, maps errors to exit codes. */
import { CommanderError } from 'commander';
import { SlipwayError } from '../errors.js';
import { createContext, type CliContext } from './context.js';
import { exitCodeFor } from './exit-codes.js';
import { buildProgram, commandWord } from './program.js';
import { usageError } from './usage.js';

/** Runs the CLI with `argv` (without node and script) and returns the exit status. */
export async function runCli(argv: string[]): Promise<number> {
  let ctx: CliContext | undefined;
  const run = { status: 0 };
  const program = buildProgram(() => (ctx ??= createContext({ root: program.opts().root as string | undefined })), run, commandWord(argv));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return run.status;
  } catch (err) {
    return report(err, Boolean(program.opts().debug));
  }
}

function report(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) {
      return 0;
    }
    if (err.code === 'commander.executeSubCommandAsync') return err.exitCode;
    err = usageError(err, { path: 'slipway', usage: '[OPTIONS] COMMAND' });
  }
  if (err instanceof SlipwayError) {
    const bare = err.code === 'USAGE' || err.code === 'TEMPLATE';
    process.stderr.write(bare ? `${err.message}\n` : `Error: ${err.message}\n`);
    if (debug && err.cause) process.stderr.write(`${String((err.cause as Error).stack ?? err.cause)}\n`);
    return err.exitCode ?? exitCodeFor(err.code);
  }
  const e = err as Error;
  process.stderr.write(`Error: ${e?.message ?? String(err)}\n`);
  if (debug) process.stderr.write(`${e?.stack ?? ''}\n`);
  return 1;
}


/** The slipway executable. */
import { exitCodeFor } from './exit-codes.js';
import { runCli } from './run.js';

let settled = false;
runCli(process.argv.slice(2)).then((status) => {
  settled = true;
  process.exitCode = status;
});

// Node exits with status 0 when nothing is left to wait on, even if the
// command's promise never settled (a stall: work waiting for something no
// one will do). That must never pass for success.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write('Error: internal error: slipway stopped with its work unfinished (a stalled operation); nothing it was doing can be relied on\n');
  process.exitCode = exitCodeFor('INTERNAL');
});

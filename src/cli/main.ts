/** The slipway executable. */
import { runCli } from './run.js';

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

runCli(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});

/**
 * `exec [-d] [-i] [-t] [-e K=V] [-u USER] [-w DIR] CONTAINER CMD...`: runs
 * `runc exec` in the foreground with our stdio (a TTY from our terminal for
 * `-t`, or from util-linux `script` when we have none); the exit status is
 * the process's.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError } from '../../errors.js';
import { isRunning, reconcile } from '../../container/lifecycle.js';
import { resolveContainer } from '../../container/records.js';
import { runDirOf, stateRootOf } from '../../container/rootfs.js';
import { lastRuntimeError, resolveUser } from '../../runtime/index.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';
import { envValues } from './container-run.js';

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** `slipway exec` */
export async function execCommand(ctx: CliContext, args: string[], opts: Opts): Promise<number> {
  const [word, ...cmd] = args as [string, ...string[]];
  await reconcile(ctx.root);
  const c = await resolveContainer(ctx.root, word);
  if (!isRunning(c)) throw new SlipwayError('CONFLICT', `Container ${c.record.id} is not running`);
  if (c.state.paused) throw new SlipwayError('CONFLICT', `Container ${c.record.id} is paused, unpause the container before exec`);
  const tty = Boolean(opts.tty);
  const interactive = Boolean(opts.interactive);
  if (tty && interactive && !process.stdin.isTTY) throw new SlipwayError('INVALID_ARGUMENT', 'the input device is not a TTY');
  const runDir = runDirOf(ctx.root, c.record.id);
  const log = join(runDir, `exec-${process.pid}.log`);
  const rargs = ['--root', stateRootOf(ctx.root, c.record.runtime.name), '--log', log, '--log-format', 'json', 'exec'];
  if (tty) rargs.push('--tty');
  if (opts.detach) rargs.push('--detach');
  for (const e of await envValues((opts.env as string[]) ?? [], [])) rargs.push('--env', e);
  if (opts.user !== undefined) {
    const u = await resolveUser(join(runDir, 'rootfs'), opts.user as string).catch((err: unknown) => {
      throw new SlipwayError('RUNTIME', `unable to find user ${String(opts.user)}: ${(err as Error).message}`, { exitCode: 126 });
    });
    rargs.push('--user', `${u.uid}:${u.gid}`, ...u.additionalGids.flatMap((g) => ['--additional-gids', String(g)]));
  }
  if (opts.workdir !== undefined) rargs.push('--cwd', opts.workdir as string);
  rargs.push(c.record.id, ...cmd);
  const path = c.record.runtime.path;
  const stdin = interactive ? 'inherit' : 'ignore';
  const child = tty && !(process.stdin.isTTY && process.stdout.isTTY)
    ? spawn('script', ['-qfec', [path, ...rargs].map(quote).join(' '), '/dev/null'], { stdio: [interactive ? 'inherit' : 'pipe', 'inherit', 'inherit'] })
    : spawn(path, rargs, { stdio: opts.detach ? 'ignore' : [stdin, 'inherit', 'inherit'] });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  const code = await new Promise<number>((resolve) => {
    child.on('error', () => resolve(126));
    child.on('exit', (c2, sig) => resolve(c2 ?? 128 + (sig === 'SIGKILL' ? 9 : 15)));
  });
  for (const [s, h] of handlers) process.off(s, h);
  const err = await lastRuntimeError(log);
  await rm(log, { force: true });
  if (err && /exec failed|unable to start|starting container process/.test(err)) {
    throw new SlipwayError('RUNTIME', `OCI runtime exec failed: exec failed: ${err.replace(/^exec failed: /, '')}: unknown`, { exitCode: 126 });
  }
  return code;
}

/** `start`, `stop`, `kill`, `restart`, `rm`, `logs`, `container prune`: one container at a time, errors reported per container as Docker does. */
import { SlipwayError } from '../../errors.js';
import {
  isRunning, reconcile, removeContainer, signalArg, signalContainer, startContainer, stopContainer, waitStopped,
} from '../../container/lifecycle.js';
import { readLogs } from '../../container/logs.js';
import { listContainerRecords, logPath, readContainer, resolveContainer, type Container } from '../../container/records.js';
import { containerSize } from '../../container/size.js';
import { effectiveStatus } from '../../container/view.js';
import { checkFilterKeys, matchLabelFilters, parseFilterTime, parseFilters } from '../filters.js';
import { humanSize } from '../humanize.js';
import { write, type CliContext } from '../context.js';
import type { Opts } from '../program.js';
import { confirm } from './prune.js';

/** Runs `fn` for each word, printing the word on success and `Error: ...` on failure; exit 1 when any failed. */
export async function each(ctx: CliContext, words: string[], fn: (c: Container, word: string) => Promise<void>, print = true): Promise<number> {
  await reconcile(ctx.root);
  let status = 0;
  for (const w of words) {
    try {
      await fn(await resolveContainer(ctx.root, w), w);
      if (print) await ctx.out(`${w}\n`);
    } catch (err) {
      await write(ctx.stderr, `Error: ${(err as Error).message}\n`);
      status = 1;
    }
  }
  return status;
}

function timeoutOf(opts: Opts): number {
  const t = Number(opts.time ?? 10);
  if (!Number.isInteger(t)) throw new SlipwayError('USAGE', `invalid argument "${String(opts.time)}" for "-t, --time" flag: strconv.ParseInt: parsing "${String(opts.time)}": invalid syntax`, { exitCode: 125 });
  return t;
}

/** `slipway start CONTAINER...` (detached; `-a` attaches to one container's output: exit status = the container's). */
export async function startCommand(ctx: CliContext, words: string[], opts: Opts): Promise<number> {
  if (opts.attach || opts.interactive) {
    if (words.length > 1) throw new SlipwayError('INVALID_ARGUMENT', 'you cannot start and attach multiple containers at once');
    return startAttached(ctx, words[0] as string, Boolean(opts.interactive));
  }
  await reconcile(ctx.root);
  const failed: string[] = [];
  for (const w of words) {
    try {
      const c = await resolveContainer(ctx.root, w);
      if (isRunning(c)) continue;
      const s = await startContainer(ctx.root, c, { attach: false, interactive: Boolean(c.record.config.OpenStdin) });
      if (!s.ready.ok) throw new SlipwayError('RUNTIME', s.ready.error ?? 'cannot start');
      await ctx.out(`${w}\n`);
    } catch (err) {
      await write(ctx.stderr, `Error: ${(err as Error).message}\n`);
      failed.push(w);
    }
  }
  if (failed.length === 0) return 0;
  await write(ctx.stderr, `Error: failed to start containers: ${failed.join(', ')}\n`);
  return 1;
}

async function startAttached(ctx: CliContext, word: string, interactive: boolean): Promise<number> {
  await reconcile(ctx.root);
  let c: Container;
  try {
    c = await resolveContainer(ctx.root, word);
  } catch (err) {
    throw new SlipwayError('NOT_FOUND', `${(err as Error).message}\nError: failed to start containers: ${word}`, { cause: err });
  }
  if (isRunning(c)) return 0;
  const s = await startContainer(ctx.root, c, { attach: true, interactive });
  if (!s.ready.ok) {
    await new Promise((r) => (s.monitor.exitCode !== null ? r(null) : s.monitor.once('exit', r)));
    throw new SlipwayError('RUNTIME', s.ready.error ?? 'cannot start', { exitCode: 1 });
  }
  const { waitAttached } = await import('./container-run.js');
  return waitAttached(s.monitor);
}

/** `slipway stop [-t N] CONTAINER...` */
export async function stopCommand(ctx: CliContext, words: string[], opts: Opts): Promise<number> {
  const t = timeoutOf(opts);
  return each(ctx, words, (c) => stopContainer(ctx.root, c, t));
}

/** `slipway restart [-t N] CONTAINER...` */
export async function restartCommand(ctx: CliContext, words: string[], opts: Opts): Promise<number> {
  const t = timeoutOf(opts);
  return each(ctx, words, async (c) => {
    await stopContainer(ctx.root, c, t);
    const fresh = (await readContainer(ctx.root, c.record.id)) ?? c;
    const s = await startContainer(ctx.root, fresh, { attach: false, interactive: Boolean(c.record.config.OpenStdin) });
    if (!s.ready.ok) throw new SlipwayError('RUNTIME', s.ready.error ?? 'cannot start');
  });
}

/** `slipway kill [-s SIGNAL] CONTAINER...` */
export async function killCommand(ctx: CliContext, words: string[], opts: Opts): Promise<number> {
  const sig = signalArg((opts.signal as string | undefined) ?? 'KILL');
  return each(ctx, words, async (c, w) => {
    await signalContainer(ctx.root, c, sig, w);
    if (sig === 'KILL' || sig === '9') await waitStopped(ctx.root, c.record.id, 10_000);
  });
}

/** `slipway rm [-f] [-v] CONTAINER...` */
export async function rmCommand(ctx: CliContext, words: string[], opts: Opts): Promise<number> {
  return each(ctx, words, (c) => removeContainer(ctx.root, c, Boolean(opts.force)));
}

/** `slipway logs [-f] [--tail N] [-t] CONTAINER` */
export async function logsCommand(ctx: CliContext, words: string[], opts: Opts): Promise<void> {
  await reconcile(ctx.root);
  const c = await resolveContainer(ctx.root, words[0] as string);
  const tailRaw = (opts.tail as string | undefined) ?? 'all';
  const tail = tailRaw === 'all' ? undefined : Number(tailRaw);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) {
    if (!/^-?\d+$/.test(tailRaw)) throw new SlipwayError('INVALID_ARGUMENT', `invalid value for "tail": ${tailRaw}`);
  }
  const id = c.record.id;
  await readLogs(logPath(ctx.root, id), {
    ...(tail !== undefined && tail >= 0 ? { tail } : {}),
    timestamps: Boolean(opts.timestamps),
    ...(opts.follow ? { follow: async () => { const now = await readContainer(ctx.root, id); return Boolean(now && isRunning(now)); } } : {}),
    onEntry: (text, stream) => write(stream === 'stdout' ? ctx.stdout : ctx.stderr, text),
  });
}

/** `slipway container prune [-f] [--filter until=...|label=...]` */
export async function containerPruneCommand(ctx: CliContext, _args: string[], opts: Opts): Promise<void> {
  const filters = parseFilters((opts.filter as string[]) ?? []);
  checkFilterKeys(filters, ['until', 'label', 'label!']);
  if (!opts.force && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.'))) return;
  await reconcile(ctx.root);
  const until = (filters.get('until') ?? []).map((v) => parseFilterTime(v, ctx.now()));
  const doomed = (await listContainerRecords(ctx.root)).filter((c) => !['running', 'paused'].includes(effectiveStatus(c))
    && until.every((t) => Date.parse(c.record.created) < t) && matchLabelFilters(filters, c.record.config.Labels ?? undefined));
  let total = 0;
  const ids: string[] = [];
  for (const c of doomed.reverse()) {
    total += await containerSize(ctx.root, c.record.id);
    await removeContainer(ctx.root, c, false);
    ids.push(c.record.id);
  }
  const head = ids.length > 0 ? `Deleted Containers:\n${ids.map((i) => `${i}\n`).join('')}\n` : '';
  await ctx.out(`${head}Total reclaimed space: ${humanSize(total)}\n`);
}

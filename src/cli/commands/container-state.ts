/** `pause`, `unpause`, `wait`, `port`, `rename`, `top`: Docker's output and error texts, one container at a time. */
import { execFile } from 'node:child_process';
import { SlipwayError } from '../../errors.js';
import { containerPids, pauseContainer, unpauseContainer, waitExitCode } from '../../container/control.js';
import { reconcile } from '../../container/lifecycle.js';
import { validateName } from '../../container/names.js';
import { renameContainer, resolveContainer } from '../../container/records.js';
import { effectiveStatus } from '../../container/view.js';
import { formatTabbed } from '../../template/tabwriter.js';
import { write, type CliContext } from '../context.js';
import type { Opts } from '../program.js';
import { each } from './container-ops.js';

/** `slipway pause CONTAINER...` */
export function pauseCommand(ctx: CliContext, words: string[]): Promise<number> {
  return each(ctx, words, (c) => pauseContainer(ctx.root, c));
}

/** `slipway unpause CONTAINER...` */
export function unpauseCommand(ctx: CliContext, words: string[]): Promise<number> {
  return each(ctx, words, (c) => unpauseContainer(ctx.root, c));
}

/** `slipway wait CONTAINER...`: blocks until each stops, prints its exit code. */
export function waitCommand(ctx: CliContext, words: string[]): Promise<number> {
  return each(ctx, words, async (c) => {
    await ctx.out(`${await waitExitCode(ctx.root, c)}\n`);
  }, false);
}

/** sortorder.NaturalLess: digit runs compare as numbers. */
function naturalCompare(a: string, b: string): number {
  const split = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i] as string;
    const q = y[i] as string;
    if (p === q) continue;
    if (/^\d/.test(p) && /^\d/.test(q)) return Number(p) - Number(q) || p.length - q.length;
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

const hostPort = (ip: string, port: number) => `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;

/** `slipway port CONTAINER [PRIVATE_PORT[/PROTO]]` */
export async function portCommand(ctx: CliContext, args: string[]): Promise<void> {
  await reconcile(ctx.root);
  const [word = '', spec] = args;
  const c = await resolveContainer(ctx.root, word);
  const status = effectiveStatus(c);
  const bound = status === 'running' || status === 'paused' ? c.state.ports ?? [] : [];
  let out: string[];
  if (spec !== undefined) {
    const [port = '', proto = 'tcp'] = spec.split('/');
    if (!/^\d+$/.test(port) || Number(port) > 65535) {
      throw new SlipwayError('INVALID_ARGUMENT', `invalid port (${port}): strconv.ParseUint: parsing ${JSON.stringify(port)}: invalid syntax`);
    }
    out = bound.filter((b) => b.containerPort === Number(port) && b.proto === (proto || 'tcp')).map((b) => hostPort(b.hostIp, b.hostPort));
    if (out.length === 0) throw new SlipwayError('NOT_FOUND', `No public port '${spec}' published for ${word}`);
  } else {
    out = bound.map((b) => `${b.containerPort}/${b.proto} -> ${hostPort(b.hostIp, b.hostPort)}`);
  }
  if (out.length > 0) await ctx.out(`${out.sort(naturalCompare).join('\n')}\n`);
}

/** `slipway rename CONTAINER NEW_NAME` */
export async function renameCommand(ctx: CliContext, args: string[]): Promise<number> {
  const [word = '', newName = ''] = args;
  try {
    const name = validateName(newName.replace(/^\//, ''));
    const c = await resolveContainer(ctx.root, word);
    await renameContainer(ctx.root, c.record.id, name);
    return 0;
  } catch (err) {
    if (!(err instanceof SlipwayError)) throw err;
    await write(ctx.stderr, `Error: ${err.message}\nError: failed to rename container named ${word}\n`);
    return 1;
  }
}

function hostPs(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ps', args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new SlipwayError('RUNTIME', `Error running ps: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

/**
 * `slipway top CONTAINER [ps OPTIONS]`: the host's `ps` (default `-ef`)
 * restricted to the container's processes, as the daemon does: the PID
 * column found in the header, the last column keeping its spaces.
 */
export async function topCommand(ctx: CliContext, args: string[], _opts: Opts): Promise<void> {
  await reconcile(ctx.root);
  const [word = '', ...psArgs] = args;
  const c = await resolveContainer(ctx.root, word);
  const pids = new Set(await containerPids(ctx.root, c));
  const lines = (await hostPs(psArgs.length > 0 ? psArgs : ['-ef'])).split('\n').filter((l) => l.trim() !== '');
  const titles = (lines.shift() ?? '').trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new SlipwayError('INVALID_ARGUMENT', `Couldn't find PID field in ps output`);
  const rows = lines.map((l) => {
    const fields = l.trim().split(/\s+/);
    return [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
  }).filter((f) => pids.has(Number(f[pidCol])));
  const text = [titles, ...rows].map((r) => `${r.join('\t')}\n`).join('');
  await ctx.out(formatTabbed(text, { minwidth: 20, tabwidth: 1, padding: 3, padchar: ' ', flags: 0 }));
}

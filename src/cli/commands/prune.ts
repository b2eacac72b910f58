/** `image prune [-a] [-f] [--filter until=... label=...]` */
import { createInterface } from 'node:readline';
import { removeWhole, type DeleteRecord, type LayerInfo } from '../../store/delete.js';
import { isDangling } from '../../store/records.js';
import type { Digest } from '../../oci/digest.js';
import { checkFilterKeys, matchLabelFilters, parseFilterTime, parseFilters } from '../filters.js';
import { humanSize } from '../humanize.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';
import { formatDeleteRecords } from './tag-rmi.js';
import { collectStore, containerUsers } from './builder.js';

const WARN_DANGLING = 'WARNING! This will remove all dangling images.';
const WARN_ALL = 'WARNING! This will remove all images without at least one container associated to them.';

/** Asks a yes/no question on the terminal as docker/cli's PromptForConfirmation does. */
export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  await ctx.out(`${message}\nAre you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: ctx.stdin });
  const answer = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

/** `slipway image prune` */
export async function imagePruneCommand(ctx: CliContext, _args: string[], opts: Opts): Promise<void> {
  const filters = parseFilters(opts.filter as string[]);
  checkFilterKeys(filters, ['until', 'label', 'label!', 'dangling']);
  const all = Boolean(opts.all) || filters.get('dangling')?.includes('false') === true;
  if (!opts.force && !(await confirm(ctx, all ? WARN_ALL : WARN_DANGLING))) return;
  const until = (filters.get('until') ?? []).map((v) => parseFilterTime(v, ctx.now()));
  const store = ctx.store();
  const used = new Set((await containerUsers(ctx)).map((u) => u.image));
  const records: DeleteRecord[] = [];
  let reclaimed = 0;
  await store.edit(async (edit) => {
    const cache = new Map<Digest, LayerInfo>();
    for (const rec of edit.records()) {
      if (!all && !isDangling(rec)) continue;
      if (used.has(rec.id)) continue;
      const created = rec.created ? Date.parse(rec.created) : 0;
      if (until.some((t) => created >= t)) continue;
      if ((filters.has('label') || filters.has('label!')) && !matchLabelFilters(filters, (await store.config(rec)).config?.Labels ?? undefined)) continue;
      reclaimed += await removeWhole(store, edit, rec.id, records, cache);
    }
  });
  await collectStore(ctx);
  const head = records.length > 0 ? `Deleted Images:\n${formatDeleteRecords(records, true)}\n` : '';
  await ctx.out(`${head}Total reclaimed space: ${humanSize(reclaimed)}\n`);
}

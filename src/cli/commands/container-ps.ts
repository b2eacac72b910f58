/** `ps` / `container ls`: Docker's container list, its filters and formats. */
import { reconcile } from '../../container/lifecycle.js';
import { listContainerRecords, type Container } from '../../container/records.js';
import { commandString, effectiveStatus, portsString, statusString } from '../../container/view.js';
import { shortId } from '../../oci/digest.js';
import { findImage } from '../../store/resolve.js';
import type { ImageRecord } from '../../store/records.js';
import { checkFilterKeys, matchLabelFilters, parseFilters, type Filters } from '../filters.js';
import { renderFormatted } from '../format.js';
import { createdSince, formatGoTime, humanSizeWithPrecision } from '../humanize.js';
import { containerSize } from '../../container/size.js';
import { SlipwayError } from '../../errors.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';
import { ellipsis } from './history.js';

const HEADERS = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES',
};
const DEFAULT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

/** The IMAGE column: the name as typed while it still names the image, else the short image ID. */
export function imageColumn(c: Container, images: readonly ImageRecord[]): string {
  let found;
  try {
    found = findImage(images, c.record.config.Image ?? '');
  } catch {
    found = undefined;
  }
  return found?.record.id === c.record.image ? (c.record.config.Image ?? '') : shortId(c.record.image);
}

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

function checkStatusFilter(f: Filters): void {
  for (const v of f.get('status') ?? []) {
    if (!STATUSES.includes(v)) throw new SlipwayError('INVALID_ARGUMENT', `Invalid filter 'status=${v}'`);
  }
}

function matches(c: Container, f: Filters, images: readonly ImageRecord[]): boolean {
  const status = effectiveStatus(c);
  const any = (key: string, test: (v: string) => boolean) => !f.has(key) || (f.get(key) ?? []).some(test);
  return any('status', (v) => v === status)
    && any('name', (v) => new RegExp(v).test(c.record.name))
    && any('id', (v) => c.record.id.startsWith(v))
    && any('exited', (v) => status === 'exited' && Number(v) === c.state.exitCode)
    && any('ancestor', (v) => {
      try {
        return findImage(images, v)?.record.id === c.record.image;
      } catch {
        return false;
      }
    })
    && matchLabelFilters(f, c.record.config.Labels ?? undefined);
}

/** The SIZE column: the writable layer, and with the image's layers "(virtual ...)", 3 significant digits as docker/cli prints them. */
export function sizeColumn(sizeRw: number, imageSize: number): string {
  const rootFs = sizeRw + imageSize;
  const rw = humanSizeWithPrecision(sizeRw, 3);
  return rootFs > 0 ? `${rw} (virtual ${humanSizeWithPrecision(rootFs, 3)})` : rw;
}

/** `slipway ps [-a] [-q] [--no-trunc] [--filter F] [--format T] [-n N] [-l]` */
export async function psCommand(ctx: CliContext, _args: string[], opts: Opts): Promise<void> {
  const filters = parseFilters((opts.filter as string[]) ?? []);
  checkFilterKeys(filters, ['status', 'name', 'id', 'exited', 'ancestor', 'label']);
  checkStatusFilter(filters);
  await reconcile(ctx.root);
  const images = await ctx.store().list();
  const now = ctx.now().getTime();
  const trunc = opts.trunc !== false;
  let list = (await listContainerRecords(ctx.root)).filter((c) => matches(c, filters, images));
  const all = Boolean(opts.all) || filters.has('status') || filters.has('exited') || opts.last !== undefined || Boolean(opts.latest);
  if (!all) list = list.filter((c) => ['running', 'paused'].includes(effectiveStatus(c)));
  const last = opts.latest ? 1 : opts.last !== undefined ? Number(opts.last) : -1;
  if (last >= 0) list = list.slice(0, last);
  const format = opts.quiet ? '{{.ID}}' : (opts.format as string | undefined) || (opts.size ? `${DEFAULT}\t{{.Size}}` : DEFAULT);
  const withSize = !opts.quiet && (Boolean(opts.size) || format.includes('.Size'));
  const sizes = withSize ? await Promise.all(list.map((c) => containerSize(ctx.root, c.record.id))) : [];
  const rows = list.map((c, i) => {
    const command = commandString(c);
    return {
      ID: trunc ? c.record.id.slice(0, 12) : c.record.id,
      Image: imageColumn(c, images),
      Command: JSON.stringify(trunc ? ellipsis(command, 20) : command),
      CreatedAt: formatGoTime(Date.parse(c.record.created)),
      RunningFor: createdSince(Date.parse(c.record.created), now),
      Ports: portsString(c),
      State: effectiveStatus(c),
      Status: statusString(c, now),
      Size: withSize ? sizeColumn(sizes[i] ?? 0, images.find((im) => im.id === c.record.image)?.size ?? 0) : '0B',
      Names: c.record.name,
      Labels: Object.entries(c.record.config.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
      Mounts: c.record.host.binds.map((b) => b.split(':')[1] ?? '').join(','),
      Networks: c.record.host.network,
      LocalVolumes: '0',
      Platform: null,
    };
  });
  await ctx.out(renderFormatted({ format, headers: HEADERS, typeName: '*formatter.ContainerContext', rows }));
}

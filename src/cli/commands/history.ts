/** `history [-H] [--no-trunc] [-q] [--format] IMAGE` */
import { shortId } from '../../oci/digest.js';
import { layerDiskSize } from '../../store/image-store.js';
import { resolveImage } from '../../store/resolve.js';
import { createdSince, formatRFC3339, humanSizeWithPrecision } from '../humanize.js';
import { renderFormatted } from '../format.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';

const HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

/** docker/cli's Ellipsis: at most `max` characters, the last one `…` when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

function parseHuman(v: unknown): boolean {
  if (typeof v === 'string') return !/^=?(false|0|f)$/i.test(v);
  return v !== false;
}

/** `slipway history IMAGE` */
export async function historyCommand(ctx: CliContext, args: string[], opts: Opts): Promise<void> {
  const store = ctx.store();
  const { record } = resolveImage(await store.list(), args[0] as string);
  const [config, manifest] = await Promise.all([store.config(record), store.manifest(record)]);
  const human = parseHuman(opts.human);
  const trunc = opts.trunc !== false;
  const now = ctx.now();
  let layer = 0;
  const rows = (config.history ?? []).map((h) => {
    const size = h.empty_layer ? 0 : layerDiskSize(manifest.layers[layer++] ?? { mediaType: '', digest: record.id, size: 0 });
    const created = h.created ? new Date(h.created) : undefined;
    const createdBy = (h.created_by ?? '').replace(/\t/g, ' ');
    return {
      Comment: h.comment ?? '',
      CreatedAt: created ? formatRFC3339(created) : '',
      CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
      CreatedSince: created ? (human ? createdSince(created, now) : formatRFC3339(created)) : '',
      ID: '<missing>',
      Size: human ? humanSizeWithPrecision(size, 3) : String(size),
    };
  }).reverse();
  if (rows[0]) rows[0].ID = trunc ? shortId(record.id) : record.id;
  const defaultFormat = human
    ? 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}'
    : 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
  await ctx.out(renderFormatted({
    format: opts.quiet ? '{{.ID}}' : (opts.format as string | undefined) || defaultFormat,
    headers: HEADERS, typeName: '*formatter.historyContext', rows,
  }));
}

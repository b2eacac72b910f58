/** `system df [-v] [--format]`: disk usage by type, shared layers counted once. */
import type { Digest } from '../../oci/digest.js';
import { layerInfo } from '../../store/delete.js';
import type { ImageRecord } from '../../store/records.js';
import { familiarName, parseReference } from '../../oci/reference.js';
import { shortId } from '../../oci/digest.js';
import { createdSince, humanSize, humanSizeWithPrecision } from '../humanize.js';
import { renderFormatted } from '../format.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';
import { cacheId, cacheUsage } from './builder.js';
import { listContainerRecords, type Container } from '../../container/records.js';
import { containerSize } from '../../container/size.js';
import { commandString, effectiveStatus, statusString } from '../../container/view.js';
import { ellipsis } from './history.js';

interface ContainerUsage {
  list: { c: Container; size: number; running: boolean }[];
  size: number;
  /** Bytes of containers that are not running. */
  reclaimable: number;
}

async function containerUsage(ctx: CliContext): Promise<ContainerUsage> {
  const all = await listContainerRecords(ctx.root);
  const list = await Promise.all(all.map(async (c) => ({ c, size: await containerSize(ctx.root, c.record.id), running: ['running', 'paused'].includes(effectiveStatus(c)) })));
  const size = list.reduce((n, x) => n + x.size, 0);
  return { list, size, reclaimable: list.filter((x) => !x.running).reduce((n, x) => n + x.size, 0) };
}

/** Bytes of the distinct layers of the images containers use. */
async function activeImageBytes(ctx: CliContext, usage: Usage, ids: Set<Digest>): Promise<number> {
  const info = await layerInfo(ctx.store(), usage.records.filter((r) => ids.has(r.id)));
  const sizes = new Map<Digest, number>();
  for (const li of info.values()) li.chain.forEach((c, i) => sizes.set(c, li.sizes[i] ?? 0));
  return [...sizes.values()].reduce((a, b) => a + b, 0);
}

interface Usage {
  records: ImageRecord[];
  /** Bytes of layers each image shares with another image. */
  shared: Map<Digest, number>;
  /** Size of all distinct layers. */
  total: number;
}

async function imageUsage(ctx: CliContext): Promise<Usage> {
  const store = ctx.store();
  const records = await store.list();
  const info = await layerInfo(store, records);
  const users = new Map<Digest, number>();
  const sizes = new Map<Digest, number>();
  for (const li of info.values()) {
    li.chain.forEach((c, i) => {
      users.set(c, (users.get(c) ?? 0) + 1);
      sizes.set(c, li.sizes[i] ?? 0);
    });
  }
  const shared = new Map<Digest, number>();
  for (const [id, li] of info) shared.set(id, li.chain.reduce((n, c, i) => n + ((users.get(c) ?? 0) > 1 ? li.sizes[i] ?? 0 : 0), 0));
  return { records, shared, total: [...sizes.values()].reduce((a, b) => a + b, 0) };
}

const SUMMARY_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

function reclaimable(total: number, used: number): string {
  const r = total - used;
  return total > 0 ? `${humanSize(r)} (${Math.trunc((r * 100) / total)}%)` : humanSize(r);
}

/** `slipway system df` */
export async function systemDfCommand(ctx: CliContext, _args: string[], opts: Opts): Promise<void> {
  const usage = await imageUsage(ctx);
  const cache = await cacheUsage(ctx);
  const containers = await containerUsage(ctx);
  if (opts.verbose && !opts.format) {
    await ctx.out(verbose(ctx, usage, cache, containers));
    return;
  }
  const activeIds = new Set(containers.list.map((x) => x.c.record.image).filter((id) => usage.records.some((r) => r.id === id)));
  const activeBytes = await activeImageBytes(ctx, usage, activeIds);
  const running = containers.list.filter((x) => x.running).length;
  const rows = [
    { Type: 'Images', TotalCount: String(usage.records.length), Active: String(activeIds.size), Size: humanSize(usage.total), Reclaimable: reclaimable(usage.total, activeBytes) },
    {
      Type: 'Containers', TotalCount: String(containers.list.length), Active: String(running), Size: humanSize(containers.size),
      Reclaimable: reclaimable(containers.size, containers.size - containers.reclaimable),
    },
    { Type: 'Local Volumes', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
    { Type: 'Build Cache', TotalCount: String(cache.records.length), Active: '0', Size: humanSize(cache.size), Reclaimable: humanSize(cache.size) },
  ];
  await ctx.out(renderFormatted({
    format: (opts.format as string | undefined) || 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
    headers: SUMMARY_HEADERS, typeName: '*formatter.diskUsageContext', rows,
  }));
}

function verbose(ctx: CliContext, usage: Usage, cache: Awaited<ReturnType<typeof cacheUsage>>, containers: ContainerUsage): string {
  const now = ctx.now();
  const perImage = new Map<Digest, number>();
  for (const x of containers.list) perImage.set(x.c.record.image, (perImage.get(x.c.record.image) ?? 0) + 1);
  const crows = containers.list.map(({ c, size }) => ({
    ID: c.record.id.slice(0, 12), Image: c.record.config.Image ?? '', Command: JSON.stringify(ellipsis(commandString(c), 20)), LocalVolumes: '0',
    Size: humanSize(size), RunningFor: createdSince(new Date(c.record.created), now), Status: statusString(c, now.getTime()), Names: c.record.name,
  }));
  const rows = usage.records.map((r) => {
    const ref = r.names[0] ? parseReference(r.names[0]) : undefined;
    const shared = usage.shared.get(r.id) ?? 0;
    return {
      Repository: ref ? familiarName(ref) : '<none>', Tag: ref?.tag ?? '<none>', ID: shortId(r.id),
      CreatedSince: r.created ? createdSince(new Date(r.created), now) : 'N/A', Size: humanSizeWithPrecision(r.size, 3),
      SharedSize: humanSize(shared), UniqueSize: humanSize(r.size - shared), Containers: String(perImage.get(r.id) ?? 0),
    };
  });
  const images = renderFormatted({
    format: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
    headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' },
    typeName: '*formatter.imageContext', rows,
  });
  const header = (format: string, headers: Record<string, string>) => renderFormatted({ format, headers, typeName: '', rows: [] });
  return `Images space usage:\n\n${images}\n`
    + `Containers space usage:\n\n${renderFormatted({
      format: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
      headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' },
      typeName: '*formatter.ContainerContext', rows: crows,
    })}\n`
    + `Local Volumes space usage:\n\n${header('table {{.Name}}\t{{.Links}}\t{{.Size}}', { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' })}\n`
    + `Build cache usage: ${humanSize(cache.size)}\n\n${renderFormatted({
      format: 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
      headers: { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' },
      typeName: '*formatter.buildCacheContext',
      rows: cache.records.map((r) => ({
        ID: cacheId(r), CacheType: 'regular', Size: humanSizeWithPrecision(r.layer.diskSize, 3),
        CreatedSince: createdSince(new Date(r.createdAt), now), LastUsedSince: createdSince(new Date(r.lastUsedAt), now),
        UsageCount: String(r.usageCount), Shared: String(cache.shared.has(r.layer.digest)),
      })),
    })}`;
}

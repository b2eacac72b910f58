/** `builder prune` and the build-cache figures of `system df`. */
import type { Digest } from '../../oci/digest.js';
import { BuildCache, type CacheRecord } from '../../build/cache.js';
import type { GcResult } from '../../store/gc.js';
import { ownerAlive, removeUnusedSnapshots } from '../../runtime/index.js';
import { imageUsers } from '../../container/records.js';
import { chainIds } from '../../oci/digest.js';
import { checkFilterKeys, parseFilterTime, parseFilters } from '../filters.js';
import { humanSize } from '../humanize.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';
import { confirm } from './prune.js';

/** The build cache of the context's store. */
export function buildCache(ctx: CliContext): BuildCache {
  const store = ctx.store();
  return new BuildCache(store.root, store.blobs);
}

/** The images containers use (newest container first), with whether each container is running. */
export function containerUsers(ctx: CliContext): ReturnType<typeof imageUsers> {
  return imageUsers(ctx.root, ownerAlive);
}

/**
 * Garbage-collects the store, keeping the layers the build cache holds and
 * the image (config, manifest, layers) of every container, then removes
 * unpacked snapshots of layers no longer in the store, keeping containers'.
 */
export async function collectStore(ctx: CliContext): Promise<GcResult> {
  const cache = buildCache(ctx);
  const store = ctx.store();
  const users = await containerUsers(ctx);
  const result = await store.gc(async () => [...(await cache.roots()), ...users.flatMap((u) => [u.image, u.manifest, ...u.layers])]);
  await removeUnusedSnapshots(store.root, { diffIds: await store.blobs.list(), chainIds: users.flatMap((u) => chainIds(u.layers)) });
  return result;
}

/** Layer digests used by images in the store. */
export async function imageLayers(ctx: CliContext): Promise<Set<Digest>> {
  const store = ctx.store();
  const out = new Set<Digest>();
  for (const r of await store.list()) for (const l of (await store.manifest(r)).layers) out.add(l.digest);
  return out;
}

/** Build-cache usage as `system df` shows it. */
export async function cacheUsage(ctx: CliContext): Promise<{ records: CacheRecord[]; size: number; shared: Set<Digest> }> {
  const records = await buildCache(ctx).list();
  const sizes = new Map(records.map((r) => [r.layer.digest, r.layer.diskSize]));
  return { records, size: [...sizes.values()].reduce((a, b) => a + b, 0), shared: await imageLayers(ctx) };
}

/** A cache record's ID as shown to users (25 characters, like BuildKit's). */
export function cacheId(r: CacheRecord): string {
  return r.key.slice(7, 32);
}

/** `slipway builder prune [-a] [-f] [--filter until=...]` */
export async function builderPruneCommand(ctx: CliContext, _args: string[], opts: Opts): Promise<void> {
  const filters = parseFilters(opts.filter as string[]);
  checkFilterKeys(filters, ['until']);
  const all = Boolean(opts.all);
  const warning = all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
  if (!opts.force && !(await confirm(ctx, warning))) return;
  const until = (filters.get('until') ?? []).map((v) => parseFilterTime(v, ctx.now()));
  const cache = buildCache(ctx);
  const used = all ? new Set<Digest>() : await imageLayers(ctx);
  const doomed = (await cache.list()).filter((r) => !used.has(r.layer.digest) && !until.some((t) => Date.parse(r.lastUsedAt) >= t));
  await cache.remove(doomed);
  if (all && until.length === 0) await (await import('../../build/add-url.js')).forgetUrlRecords(ctx.root);
  const gc = await collectStore(ctx);
  const freed = new Set(gc.deleted);
  const total = doomed.filter((r) => freed.has(r.layer.digest)).reduce((n, r) => n + r.layer.diskSize, 0);
  const head = doomed.length > 0 ? `Deleted build cache objects:\n${doomed.map((r) => `${cacheId(r)}\n`).join('')}` : '';
  await ctx.out(`${head}Total:\t${humanSize(total)}\n`);
}

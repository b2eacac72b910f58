/**
 * Docker's image deletion (moby daemon/images/image_delete.go): untagging a
 * name, deleting an image by ID, the conflicts that refuse it, and the
 * record lines `Untagged: ...` / `Deleted: ...` it prints, with the chain IDs
 * of the layers it released.
 */
import { SlipwayError } from '../errors.js';
import { chainIds, shortId, type Digest } from '../oci/digest.js';
import { familiarString, fullName, isImageIdPrefix, parseReference } from '../oci/reference.js';
import type { EditContext, ImageStore } from './image-store.js';
import { layerDiskSize } from './image-store.js';
import type { ImageRecord } from './records.js';
import { resolveImage } from './resolve.js';

/** One line of the result, as Docker's ImageDeleteResponseItem. */
export type DeleteRecord = { untagged: string } | { deleted: string };

/** A container using an image (containers keep their image as Docker's do). */
export interface ImageUser {
  /** The container ID (64 hex). */
  id: string;
  image: Digest;
  running: boolean;
}

/** Options of deleteImage. */
export interface DeleteOptions {
  force?: boolean;
  /** The containers, newest first: an image a container uses is refused or only untagged, as Docker does. */
  containers?: readonly ImageUser[];
}

/** moby's imageDeleteConflict text. */
function conflict(id: Digest, hard: boolean, why: string): SlipwayError {
  return new SlipwayError('CONFLICT', `conflict: unable to delete ${shortId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${why}`);
}

/** The container conflicts moby checks (running: hard; stopped: soft, ignored with force). */
function containerConflict(id: Digest, users: readonly ImageUser[], force: boolean): SlipwayError | undefined {
  const running = users.find((c) => c.image === id && c.running);
  if (running) return conflict(id, true, `image is being used by running container ${running.id.slice(0, 12)}`);
  const stopped = users.find((c) => c.image === id && !c.running);
  if (stopped && !force) return conflict(id, false, `image is being used by stopped container ${stopped.id.slice(0, 12)}`);
  return undefined;
}

/** The layers of one image. */
export interface LayerInfo {
  chain: Digest[];
  sizes: number[];
}

/** Chain IDs and disk sizes of every image's layers, read once for a batch of deletions. */
export async function layerInfo(store: ImageStore, records: readonly ImageRecord[]): Promise<Map<Digest, LayerInfo>> {
  const out = new Map<Digest, LayerInfo>();
  for (const r of records) {
    const m = await store.manifest(r);
    out.set(r.id, { chain: chainIds(m.layers.map((l) => l.digest)), sizes: m.layers.map(layerDiskSize) });
  }
  return out;
}

/**
 * Removes the image a user's word names. A name is untagged, and the image is
 * deleted only when it was its last reference; an ID deletes the image,
 * refusing (without force) one referenced by more than one name.
 * Returns the records and the bytes of released layers.
 */
export async function deleteImage(store: ImageStore, word: string, options: DeleteOptions = {}): Promise<{ records: DeleteRecord[]; reclaimed: number }> {
  const users = options.containers ?? [];
  const force = Boolean(options.force);
  return store.edit(async (ctx) => {
    const { record, name } = resolveImage(ctx.records(), word);
    const byName = name !== undefined && !isImageIdPrefix(word);
    const refs = record.names.length + record.repoDigests.length;
    const out: DeleteRecord[] = [];
    if (byName) {
      const user = users.find((c) => c.image === record.id);
      if (!force && refs <= 1 && user) {
        throw new SlipwayError('CONFLICT', `conflict: unable to remove repository reference "${word}" (must force) - container ${user.id.slice(0, 12)} is using its referenced image ${shortId(record.id)}`);
      }
      untag(ctx, name, out);
      const left = ctx.records().find((r) => r.id === record.id);
      if (left && (left.names.length > 0 || left.repoDigests.length > 0)) return { records: out, reclaimed: 0 };
      // The last name is gone: the image stays (dangling) while a container it would conflict with uses it.
      if (containerConflict(record.id, users, force)) return { records: out, reclaimed: 0 };
    } else {
      const single = record.names.length <= 1 && new Set([...record.names, ...record.repoDigests].map((n) => fullName(parseReference(n)))).size <= 1;
      if (single) {
        const c = containerConflict(record.id, users, force);
        if (c) throw c;
      } else if (!force) {
        throw conflict(record.id, false, 'image is referenced in multiple repositories');
      }
    }
    const reclaimed = await removeWhole(store, ctx, record.id, out);
    return { records: out, reclaimed };
  });
}

/** Untags `name`; a tag whose repository keeps no other tag also drops that repository's digests. */
function untag(ctx: EditContext, name: string, out: DeleteRecord[]): void {
  out.push({ untagged: familiarString(parseReference(name)) });
  if (name.includes('@')) {
    ctx.removeRepoDigest(name);
    return;
  }
  const rec = ctx.removeName(name);
  const repo = fullName(parseReference(name));
  const left = rec && ctx.records().find((r) => r.id === rec.id);
  if (!left || left.names.some((n) => fullName(parseReference(n)) === repo)) return;
  for (const d of left.repoDigests.filter((x) => fullName(parseReference(x)) === repo)) {
    ctx.removeRepoDigest(d);
    out.push({ untagged: familiarString(parseReference(d)) });
  }
}

/**
 * Deletes an image with all its names, appending `Untagged:` for each name,
 * `Deleted:` for the image and for each layer (chain ID, top first) no other
 * image uses. Returns the bytes of those layers.
 */
export async function removeWhole(store: ImageStore, ctx: EditContext, id: Digest, out: DeleteRecord[], cache = new Map<Digest, LayerInfo>()): Promise<number> {
  const rec = ctx.records().find((r) => r.id === id);
  if (!rec) return 0;
  for (const n of [...rec.names].sort()) out.push({ untagged: familiarString(parseReference(n)) });
  for (const d of rec.repoDigests) out.push({ untagged: familiarString(parseReference(d)) });
  ctx.removeImage(id);
  out.push({ deleted: id });
  const others = ctx.records();
  for (const r of [rec, ...others]) if (!cache.has(r.id)) (await layerInfo(store, [r])).forEach((v, k) => cache.set(k, v));
  const used = new Set<string>();
  for (const r of others) for (const c of cache.get(r.id)?.chain ?? []) used.add(c);
  const mine = cache.get(id) as LayerInfo;
  let reclaimed = 0;
  for (let i = mine.chain.length - 1; i >= 0; i--) {
    const c = mine.chain[i] as Digest;
    if (used.has(c)) break;
    out.push({ deleted: c });
    reclaimed += mine.sizes[i] ?? 0;
  }
  return reclaimed;
}

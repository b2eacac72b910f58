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

/** Options of deleteImage. */
export interface DeleteOptions {
  force?: boolean;
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
  return store.edit(async (ctx) => {
    const { record, name } = resolveImage(ctx.records(), word);
    const byName = name !== undefined && !isImageIdPrefix(word);
    const out: DeleteRecord[] = [];
    if (byName) {
      untag(ctx, name, out);
      const left = ctx.records().find((r) => r.id === record.id);
      if (left && (left.names.length > 0 || left.repoDigests.length > 0)) return { records: out, reclaimed: 0 };
    } else if (!options.force && record.names.length + record.repoDigests.length > 1) {
      const oneRepo = new Set([...record.names, ...record.repoDigests].map((n) => fullName(parseReference(n)))).size === 1;
      if (!oneRepo || record.names.length > 1) {
        throw new SlipwayError('CONFLICT', `conflict: unable to delete ${shortId(record.id)} (must be forced) - image is referenced in multiple repositories`);
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

/**
 * Image records: the view of `index.json` entries grouped by image ID, and
 * the pure edits (tag, untag, add, remove) applied to the entries under the
 * store lock. Names are full references such as
 * `docker.io/library/busybox:latest`.
 */
import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import { Annotation } from './refs.js';

/** One image in the store. */
export interface ImageRecord {
  /** The image ID: the digest of its config, as Docker's classic store. */
  id: Digest;
  /** The manifest as stored locally (annotations removed). */
  manifest: Descriptor;
  /** Full references that name it, in the order they were added. */
  names: string[];
  /** `name@sha256:...` digests it has in registries (after push or pull). */
  repoDigests: string[];
  /** The config's `created` time (RFC 3339), if any. */
  created: string | undefined;
  /** Uncompressed size of all layers, as `docker images` shows it. */
  size: number;
  /** When it was last tagged (Metadata.LastTagTime). */
  lastTagTime: string | undefined;
}

/** What a new image brings to the index. */
export interface NewImage {
  id: Digest;
  manifest: Descriptor;
  created: string | undefined;
  size: number;
  names: string[];
  repoDigests?: string[];
}

/** Groups index entries into image records, in index order. */
export function toRecords(entries: readonly Descriptor[]): ImageRecord[] {
  const byId = new Map<string, ImageRecord>();
  for (const e of entries) {
    const a = e.annotations ?? {};
    const id = a[Annotation.imageId] as Digest | undefined;
    if (id === undefined) continue;
    let rec = byId.get(id);
    if (rec === undefined) {
      const { annotations: _drop, ...manifest } = e;
      rec = {
        id, manifest, names: [], repoDigests: splitList(a[Annotation.repoDigests]),
        created: a[Annotation.created], size: Number(a[Annotation.size] ?? 0), lastTagTime: undefined,
      };
      byId.set(id, rec);
    }
    const name = a[Annotation.refName];
    if (name !== undefined) rec.names.push(name);
    const tagged = a[Annotation.taggedAt];
    if (tagged !== undefined && (rec.lastTagTime === undefined || tagged > rec.lastTagTime)) rec.lastTagTime = tagged;
  }
  // Docker's reference store lists an image's references sorted by their full string (lexicalRefs).
  for (const rec of byId.values()) {
    rec.names.sort();
    rec.repoDigests.sort();
  }
  return [...byId.values()];
}

function splitList(s: string | undefined): string[] {
  return s ? s.split(',') : [];
}

function entryFor(rec: Omit<NewImage, 'names'>, name: string | undefined, taggedAt: string | undefined): Descriptor {
  const annotations: Record<string, string> = {};
  if (name !== undefined) {
    annotations[Annotation.refName] = name;
    annotations[Annotation.imageName] = name;
  }
  annotations[Annotation.imageId] = rec.id;
  if (rec.created !== undefined) annotations[Annotation.created] = rec.created;
  annotations[Annotation.size] = String(rec.size);
  if (taggedAt !== undefined) annotations[Annotation.taggedAt] = taggedAt;
  if (rec.repoDigests && rec.repoDigests.length > 0) annotations[Annotation.repoDigests] = rec.repoDigests.join(',');
  return { mediaType: rec.manifest.mediaType, digest: rec.manifest.digest, size: rec.manifest.size, annotations };
}

/** The image IDs whose last name was moved away by an edit (now dangling). */
export type Orphans = Digest[];

/**
 * Adds an image (or more names for it) to `entries` in place. A name that
 * pointed at another image moves; an image left without names stays as a
 * dangling entry, as Docker keeps it (`<none>:<none>`). Returns those images.
 */
export function addImage(entries: Descriptor[], image: NewImage, now = new Date().toISOString()): Orphans {
  const orphans: Digest[] = [];
  for (const name of image.names) {
    const old = removeName(entries, name);
    if (old !== undefined && old.id !== image.id) orphans.push(old.id);
  }
  const existing = toRecords(entries).find((r) => r.id === image.id);
  const repoDigests = [...new Set([...(existing?.repoDigests ?? []), ...(image.repoDigests ?? [])])];
  const base = { ...image, repoDigests };
  removeImage(entries, image.id);
  const names = [...new Set([...(existing?.names ?? []), ...image.names])];
  if (names.length === 0) entries.push(entryFor(base, undefined, undefined));
  for (const name of names) {
    const keepTime = existing?.names.includes(name) && !image.names.includes(name);
    entries.push(entryFor(base, name, keepTime ? existing?.lastTagTime : image.names.length > 0 ? now : undefined));
  }
  return orphans;
}

/** Removes a name; returns the record it named before, if any. The image keeps a dangling entry if it was its last name. */
export function removeName(entries: Descriptor[], name: string): ImageRecord | undefined {
  const i = entries.findIndex((e) => e.annotations?.[Annotation.refName] === name);
  if (i < 0) return undefined;
  const rec = toRecords([entries[i] as Descriptor])[0];
  entries.splice(i, 1);
  if (rec) ensureEntry(entries, rec.id, rec);
  return rec;
}

function ensureEntry(entries: Descriptor[], id: Digest, rec: ImageRecord): void {
  if (entries.some((e) => e.annotations?.[Annotation.imageId] === id)) return;
  entries.push(entryFor(rec, undefined, undefined));
}

/** Removes a `name@digest` repo digest from the image that has it. */
export function removeRepoDigest(entries: Descriptor[], name: string): void {
  for (const e of entries) {
    const a = e.annotations;
    const list = splitList(a?.[Annotation.repoDigests]);
    if (!a || !list.includes(name)) continue;
    const rest = list.filter((d) => d !== name);
    if (rest.length > 0) a[Annotation.repoDigests] = rest.join(',');
    else delete a[Annotation.repoDigests];
  }
}

/** Adds `name@digest` repo digests to every entry of an image (after a push); returns false when no entry has that ID. */
export function addRepoDigests(entries: Descriptor[], id: Digest, repoDigests: readonly string[]): boolean {
  let found = false;
  for (const e of entries) {
    const a = e.annotations;
    if (a?.[Annotation.imageId] !== id) continue;
    found = true;
    a[Annotation.repoDigests] = [...new Set([...splitList(a[Annotation.repoDigests]), ...repoDigests])].join(',');
  }
  return found;
}

/** Removes every entry of an image. */
export function removeImage(entries: Descriptor[], id: Digest): void {
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i]?.annotations?.[Annotation.imageId] === id) entries.splice(i, 1);
  }
}

/** True when nothing names the image, neither a tag nor a repo digest (Docker's dangling `<none>:<none>`). */
export function isDangling(rec: ImageRecord): boolean {
  return rec.names.length === 0 && rec.repoDigests.length === 0;
}

/**
 * The local image store: an OCI image layout on disk (blobs + index.json)
 * with Docker's image semantics on top (IDs, tags, dangling images).
 */
import { SlipwayError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.js';
import { BlobStore } from './blobs.js';
import { collectGarbage, type GcResult } from './gc.js';
import { Annotation, readRefs, updateRefs } from './refs.js';
import { addImage, addRepoDigests, removeImage, removeName, removeRepoDigest, toRecords, type ImageRecord, type NewImage, type Orphans } from './records.js';

/** An image to add: its manifest and config documents (layers already committed). */
export interface CommitImageOptions {
  manifest: Manifest;
  config: ImageConfig | Buffer;
  /** Full references to tag it with. */
  names: string[];
  repoDigests?: string[];
}

/** The result of committing an image. */
export interface CommitResult {
  id: Digest;
  record: ImageRecord;
  /** Images whose last tag moved to this one (now dangling). */
  orphans: Orphans;
  /** Names that pointed at another image before, with that image's ID. */
  replaced: Map<string, Digest>;
}

/** The image store at one root. */
export class ImageStore {
  readonly blobs: BlobStore;

  /** Opens the store at `root` (nothing is created until something is written). */
  constructor(readonly root: string) {
    this.blobs = new BlobStore(root);
  }

  /** All images, in index order. */
  async list(): Promise<ImageRecord[]> {
    return toRecords((await readRefs(this.root)).manifests);
  }

  /** The manifest of an image. */
  async manifest(rec: Pick<ImageRecord, 'manifest'>): Promise<Manifest> {
    return this.blobs.readJson<Manifest>(rec.manifest.digest);
  }

  /** The config of an image. */
  async config(rec: Pick<ImageRecord, 'id'>): Promise<ImageConfig> {
    return this.blobs.readJson<ImageConfig>(rec.id);
  }

  /**
   * Writes the config and manifest, checks every layer is present, and adds
   * the image with its names in one atomic index update.
   */
  async commitImage(options: CommitImageOptions): Promise<CommitResult> {
    return (await this.commitImages([options]))[0] as CommitResult;
  }

  /**
   * commitImage for several images (a multi-image archive) in one index
   * update: all or none of them become visible. Each result also tells
   * which names pointed at another image before (`replaced`).
   */
  async commitImages(list: readonly CommitImageOptions[]): Promise<CommitResult[]> {
    const prepared: { image: NewImage; blobs: Digest[] }[] = [];
    for (const options of list) prepared.push(await this.writeDocuments(options));
    const results = await updateRefs(this.root, async (entries) => {
      const out: CommitResult[] = [];
      for (const p of prepared) {
        for (const d of p.blobs) {
          if ((await this.blobs.size(d)) === undefined) {
            throw new SlipwayError('NOT_FOUND', `content ${d} vanished from the store before the image was committed (a concurrent prune?); try again`);
          }
        }
        const before = toRecords(entries);
        const replaced = new Map<string, Digest>();
        for (const n of p.image.names) {
          const old = before.find((r) => r.names.includes(n));
          if (old && old.id !== p.image.id) replaced.set(n, old.id);
        }
        const orphans = addImage(entries, p.image);
        const record = toRecords(entries).find((r) => r.id === p.image.id) as ImageRecord;
        out.push({ id: p.image.id, record, orphans, replaced });
      }
      return out;
    });
    await this.blobs.releaseLease();
    return results;
  }

  private async writeDocuments(options: CommitImageOptions): Promise<{ image: NewImage; blobs: Digest[] }> {
    const configBytes = Buffer.isBuffer(options.config) ? options.config : Buffer.from(JSON.stringify(options.config));
    const config = await this.blobs.write(configBytes, { what: 'image config' });
    const manifest: Manifest = { ...options.manifest, config: { ...options.manifest.config, digest: config.digest, size: config.size } };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const written = await this.blobs.write(manifestBytes, { what: 'manifest' });
    const cfg = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const image: NewImage = {
      id: config.digest, manifest: { mediaType: manifest.mediaType ?? MediaType.ociManifest, digest: written.digest, size: written.size },
      created: cfg.created, size: manifest.layers.reduce((n, l) => n + layerDiskSize(l), 0), names: options.names,
      ...(options.repoDigests ? { repoDigests: options.repoDigests } : {}),
    };
    return { image, blobs: [config.digest, written.digest, ...manifest.layers.map((l) => l.digest)] };
  }

  /** Adds a name to an existing image; returns images left dangling. */
  async tag(id: Digest, name: string): Promise<Orphans> {
    return updateRefs(this.root, (entries) => {
      const rec = toRecords(entries).find((r) => r.id === id);
      if (rec === undefined) throw new SlipwayError('NOT_FOUND', `No such image: ${id}`);
      return addImage(entries, { ...rec, names: [name] });
    });
  }

  /** Records `name@digest` repo digests on an existing image (after a push); NOT_FOUND when it is gone. */
  async addRepoDigests(id: Digest, repoDigests: readonly string[]): Promise<void> {
    await updateRefs(this.root, (entries) => {
      if (!addRepoDigests(entries, id, repoDigests)) throw new SlipwayError('NOT_FOUND', `No such image: ${id}`);
    });
  }

  /**
   * Runs an edit of the index under the lock with the current records; the
   * edit gets helpers to remove names and images.
   */
  async edit<T>(fn: (ctx: EditContext) => Promise<T> | T): Promise<T> {
    return updateRefs(this.root, (entries) => fn({
      records: () => toRecords(entries),
      removeName: (name) => removeName(entries, name),
      removeImage: (id) => removeImage(entries, id),
      removeRepoDigest: (name) => removeRepoDigest(entries, name),
    }));
  }

  /** Deletes unreferenced blobs. */
  async gc(extraRoots?: () => Promise<Iterable<Digest>>): Promise<GcResult> {
    return collectGarbage({ blobs: this.blobs, ...(extraRoots ? { extraRoots } : {}) });
  }

  /** Releases this process's lease on uncommitted content. */
  async close(): Promise<void> {
    await this.blobs.releaseLease();
  }
}

/** Index edits available inside ImageStore.edit. */
export interface EditContext {
  records(): ImageRecord[];
  removeName(name: string): ImageRecord | undefined;
  removeImage(id: Digest): void;
  removeRepoDigest(name: string): void;
}

/** Docker's size of a layer: its annotation when recorded, else the tar size. */
export function layerDiskSize(layer: Descriptor): number {
  const v = layer.annotations?.[Annotation.layerSize];
  return v === undefined ? layer.size : Number(v);
}

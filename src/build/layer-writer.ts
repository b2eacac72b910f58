/**
 * Writing a layer a build step produces: entries become a tar stream that is
 * hashed into the store as it is written (one pass, nothing held whole),
 * committed, and measured the way Docker sizes layers.
 */
import type { Readable } from 'node:stream';
import { createTarWriter, type TarHeaderInput } from '../layer/index.js';
import type { Digest } from '../oci/digest.js';
import type { BlobStore } from '../store/blobs.js';

/** One member of a layer: its header and, for files, a way to open its content. */
export interface LayerEntry {
  header: TarHeaderInput;
  body?: () => Readable | Buffer;
}

/** A layer in the store. */
export interface BuiltLayer {
  digest: Digest;
  size: number;
  /** Regular-file bytes of the tar (Docker's layer size: what applying it writes). */
  diskSize: number;
}

/** Writes `entries` as a layer blob and commits it. */
export async function writeLayer(blobs: BlobStore, entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>): Promise<BuiltLayer> {
  const tar = createTarWriter();
  const staged = blobs.stage(tar, { what: 'layer' });
  let diskSize = 0;
  try {
    for await (const e of entries) {
      const type = e.header.type ?? 'file';
      if (type === 'file') diskSize += e.header.size ?? 0;
      await tar.addEntry(e.header, e.body?.());
    }
    await tar.finish();
  } catch (err) {
    tar.abort(err as Error);
    await staged.catch(() => undefined);
    throw err;
  }
  const blob = await staged;
  await blobs.commit(blob);
  return { digest: blob.digest, size: blob.size, diskSize };
}

/**
 * Staging a layer from a stream: decompressed if it is compressed, hashed
 * into the store's ingest area (its digest is the diff ID), and scanned for
 * unsafe entries in the same pass. Nothing is visible until committed.
 */
import { PassThrough, type Readable } from 'node:stream';
import { decompress, scanTar } from '../layer/index.js';
import type { BlobStore, IncrementalHasher, StagedBlob } from '../store/blobs.js';

/** A verified, staged layer and Docker's size of it. */
export interface StagedLayer {
  blob: StagedBlob;
  /**
   * Docker's size of a loaded or imported layer: what moby's UnpackLayer
   * returns, the sum of the tar headers' sizes (regular files; symlinks,
   * hard links and directories count 0). busybox loads as 1982365 bytes.
   */
  diskSize: number;
}

/** Options of stageLayer. */
export interface StageLayerOptions {
  /** Where the diff ID is hashed (default: on this thread), e.g. a HashWorkerPool's hasher. */
  hasher?: IncrementalHasher;
}

/** Stages `input` (a tar, maybe gzip/bzip2/xz/zstd-compressed) as an uncompressed layer. */
export async function stageLayer(blobs: BlobStore, input: Readable, label: string, options: StageLayerOptions = {}): Promise<StagedLayer> {
  const plain = await decompress(input);
  const forScan = new PassThrough({ highWaterMark: 8 << 20 });
  const scan = scanTar(forScan, { label });
  scan.catch(() => forScan.resume());
  let blob: StagedBlob;
  try {
    blob = await blobs.stage(plain, {
      what: label,
      ...(options.hasher ? { hasher: options.hasher } : {}),
      onChunk: async (c) => {
        if (!forScan.destroyed && !forScan.write(c)) await new Promise((r) => { forScan.once('drain', r); forScan.once('close', r); });
        // The scan stopped reading (it refused the tar): fail now with its error instead of waiting for a drain that never comes.
        if (forScan.destroyed) await scan;
      },
    });
  } finally {
    forScan.end();
  }
  try {
    return { blob, diskSize: (await scan).contentBytes };
  } catch (err) {
    await blobs.discard(blob);
    throw err;
  }
}

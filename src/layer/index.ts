/**
 * Layer tars: a streaming tar codec (ustar, GNU, PAX), safe extraction with
 * OCI whiteout semantics, validation, compression, and directory archiving.
 */
export { BLOCK, TYPEFLAG, typeFromFlag } from './tar-format.js';
export type { TarEntryType, TarFormat, TarHeader, TarHeaderInput } from './tar-format.js';
export { readTar, TarEntry } from './tar-reader.js';
export type { ReadTarOptions } from './tar-reader.js';
export { TarWriter, createTarWriter } from './tar-writer.js';
export type { TarBody, TarWriterOptions } from './tar-writer.js';
export { applyLayer } from './apply.js';
export type { ApplyLayerOptions, ApplyResult } from './apply.js';
export { scanTar } from './scan.js';
export type { ScanResult, ScanTarOptions } from './scan.js';
export { compressGzip, decompress, detectCompression, peek } from './compression.js';
export type { Compression } from './compression.js';
export { tarDirectory } from './tar-directory.js';
export type { TarDirectoryOptions } from './tar-directory.js';
export { OPAQUE_MARKER, WHITEOUT_PREFIX, cleanEntryPath } from './safe-path.js';
export { overlayDiff } from './overlay-diff.js';
export type { DiffEntry, OverlayDiffOptions } from './overlay-diff.js';
export { listXattrs, mknod, setXattr } from './sys.js';

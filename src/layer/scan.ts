/**
 * Validate a tar without extracting it: well-formed headers and bodies, and
 * the same path safety rules applyLayer enforces.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { readTar } from './tar-reader.js';
import { SymlinkTracker, checkLinkTarget, cleanEntryPath, refuse, whiteoutOf } from './safe-path.js';

/** Options of scanTar. */
export interface ScanTarOptions {
  /** Error message prefix (default 'layer tar'). */
  label?: string;
  /** Also compute the sha256 of the tar stream (the layer's diffID). */
  digest?: boolean;
}

/** What scanTar found. */
export interface ScanResult {
  /** Number of entries, meta headers (PAX, GNU long names) not counted. */
  entries: number;
  /** Bytes of the tar stream, including headers, padding and trailing blocks. */
  tarBytes: number;
  /** Sum of the entries' body sizes. */
  contentBytes: number;
  /** "sha256:<hex>" of the tar stream, when asked for. */
  digest?: string;
}

/**
 * Read the whole tar and throw SlipwayError('INVALID_ARCHIVE') if it is
 * corrupt, truncated, or has an entry that applyLayer would refuse
 * (absolute or escaping paths, escaping links, writes through a symlink
 * the archive created, unsupported entry types).
 */
export async function scanTar(input: Readable | AsyncIterable<unknown>, opts: ScanTarOptions = {}): Promise<ScanResult> {
  const label = opts.label ?? 'layer tar';
  const hash = opts.digest ? createHash('sha256') : null;
  let tarBytes = 0;
  const onChunk = (c: Buffer): void => {
    tarBytes += c.length;
    hash?.update(c);
  };
  const links = new SymlinkTracker();
  let entries = 0;
  let contentBytes = 0;
  for await (const entry of readTar(input, { label, onChunk })) {
    const h = entry.header;
    entries++;
    contentBytes += h.size;
    if (h.type === 'other') throw refuse(label, h.name, `unsupported entry type '${h.typeflag}'`);
    const parts = cleanEntryPath(h.name, label);
    if (parts.length === 0) {
      if (h.type !== 'directory') throw refuse(label, h.name, 'the root must be a directory');
      continue;
    }
    links.checkParents(parts, label, h.name);
    const wh = whiteoutOf(parts, label, h.name);
    if (wh?.kind === 'remove') {
      links.remove([...parts.slice(0, -1), wh.name]);
      continue;
    }
    if (wh) continue;
    const target = checkLinkTarget(h, parts, label);
    if (target) links.checkParents(target, label, h.name, target.length - 1);
    links.record(parts, h.type === 'symlink');
    await entry.drain();
  }
  const result: ScanResult = { entries, tarBytes, contentBytes };
  if (hash) result.digest = `sha256:${hash.digest('hex')}`;
  return result;
}

/**
 * Reads an image archive (docker-archive or OCI archive) in one streaming
 * pass: every file is hashed into the store's ingest area (nothing becomes
 * visible), small JSON documents are also kept in memory, and files that look
 * like layer tars are scanned for unsafe entries in the same pass.
 */
import type { Readable } from 'node:stream';
import { SlipwayError } from '../errors.js';
import { readTar, scanTar, type ScanResult } from '../layer/index.js';
import type { BlobStore, IncrementalHasher, StagedBlob } from '../store/blobs.js';
import type { Digest } from '../oci/digest.js';
import { ChunkChannel } from './chunk-channel.js';
import { HashWorkerPool } from './hash-worker.js';
import type { SlotRing } from './slot-ring.js';

/** One regular file of the archive, staged in the store's ingest area. */
export interface ArchiveFile {
  path: string;
  blob: StagedBlob;
  /** The bytes, when the file is small (documents). */
  bytes: Buffer | undefined;
  /** Why the file is not a safe tar, when it was scanned and found unsafe or not a tar. */
  tarProblem: SlipwayError | undefined;
  /** What the scan of a safe tar found. */
  scan: ScanResult | undefined;
}

/** Everything an archive held. */
export interface ArchiveContents {
  files: Map<string, ArchiveFile>;
  /** Symlinks between archive members (old docker-archives link repeated layer.tar files). */
  links: Map<string, string>;
}

const DOC_LIMIT = 8 << 20;
/** Members at least this large are hashed on a worker thread (its start-up, ~30 ms, is not worth it for less). */
const WORKER_HASH_MIN = 32 << 20;

/** Normalises an archive member name: no leading './' or '/', no trailing '/'. */
export function memberName(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
}

function expectedDigest(path: string): Digest | undefined {
  const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
  return m ? (`sha256:${m[1]}` as Digest) : undefined;
}

/** Options of readArchive. */
export interface ReadArchiveOptions {
  /** The archive: an uncompressed tar. */
  input: Readable | AsyncIterable<Buffer>;
  blobs: BlobStore;
  /** Names the archive in error messages. */
  label: string;
  /**
   * Shared memory for hashing on a worker thread; `input`'s chunks may be
   * views of it (see readIntoRing). Without it, everything is hashed inline.
   */
  ring?: SlotRing;
}

/** Streams the archive into staged blobs. On error everything staged is discarded. */
export async function readArchive(options: ReadArchiveOptions): Promise<ArchiveContents> {
  const { input, blobs, label, ring } = options;
  const contents: ArchiveContents = { files: new Map(), links: new Map() };
  const pool = ring ? new HashWorkerPool(ring) : undefined;
  try {
    for await (const entry of readTar(input, { label })) {
      const path = memberName(entry.header.name);
      if (entry.header.type === 'symlink' || entry.header.type === 'link') {
        contents.links.set(path, entry.header.linkname);
        continue;
      }
      if (entry.header.type !== 'file') continue;
      if (contents.files.has(path)) throw new SlipwayError('INVALID_ARCHIVE', `${label}: "${path}" appears twice in the archive`);
      const hasher = pool && entry.header.size >= WORKER_HASH_MIN ? pool.hasher() : undefined;
      contents.files.set(path, await stageMember({ entry, size: entry.header.size, path, blobs, label, hasher, ring }));
    }
  } catch (err) {
    await discardAll(contents, blobs);
    throw err;
  } finally {
    await pool?.close();
  }
  return contents;
}

/** Discards every staged file of `contents`. */
export async function discardAll(contents: ArchiveContents, blobs: BlobStore): Promise<void> {
  for (const f of contents.files.values()) await blobs.discard(f.blob);
}

interface Member {
  entry: AsyncIterable<Buffer>;
  path: string;
  blobs: BlobStore;
  label: string;
  hasher: IncrementalHasher | undefined;
}

interface Member {
  entry: AsyncIterable<Buffer>;
  /** The member's size from its tar header. */
  size: number;
  path: string;
  blobs: BlobStore;
  label: string;
  hasher: IncrementalHasher | undefined;
  ring: SlotRing | undefined;
}

async function stageMember(m: Member): Promise<ArchiveFile> {
  const { path, label } = m;
  const keep = m.size <= DOC_LIMIT;
  const parts: Buffer[] = [];
  let scanner: Scanner | undefined;
  const exp = expectedDigest(path);
  const retain = m.ring ? (c: Buffer) => (m.ring as SlotRing).retain(c) : undefined;
  const blob = await m.blobs.stage(m.entry, {
    what: `${label}: ${path}`,
    ...(exp ? { expected: { digest: exp } } : {}),
    ...(m.hasher ? { hasher: m.hasher } : {}),
    ...(retain ? { retain } : {}),
    onChunk: async (chunk) => {
      // Ring memory is reused: keep a copy of a document's bytes.
      if (keep) parts.push(m.ring ? Buffer.from(chunk) : chunk);
      scanner ??= startScanner(chunk, `${label}: layer ${path}`);
      await scanner.feed(chunk, retain?.(chunk));
    },
  });
  const result = scanner ? await scanner.end() : new SlipwayError('INVALID_ARCHIVE', `${label}: layer ${path} is empty`);
  const tarProblem = result instanceof SlipwayError ? result : undefined;
  const scan = result instanceof SlipwayError ? undefined : result;
  return { path, blob, bytes: keep ? Buffer.concat(parts) : undefined, tarProblem, scan };
}

interface Scanner {
  /** Queues a chunk for the scan; `release` (if any) is called once the scan no longer needs the chunk. */
  feed(chunk: Buffer, release?: () => void): Promise<void>;
  end(): Promise<SlipwayError | ScanResult>;
}

/** Scans a member as a layer tar while it streams by; JSON documents get a no-op scanner. */
function startScanner(first: Buffer, label: string): Scanner {
  if (first[0] === 0x7b /* '{' */) {
    const problem = new SlipwayError('INVALID_ARCHIVE', `${label} is not a tar archive`);
    return { feed: async (_c, release) => release?.(), end: async () => problem };
  }
  const channel = new ChunkChannel();
  const done = scanTar(channel, { label }).catch((err: unknown) => {
    channel.close();
    return err instanceof SlipwayError ? err : new SlipwayError('INVALID_ARCHIVE', `${label}: ${(err as Error).message}`, { cause: err });
  });
  return {
    feed: (chunk, release) => channel.push(chunk, release),
    async end() {
      channel.end();
      return done;
    },
  };
}

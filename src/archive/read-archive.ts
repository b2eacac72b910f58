/**
 * Reads an image archive (docker-archive or OCI archive) in one streaming
 * pass: every file is hashed into the store's ingest area (nothing becomes
 * visible), small JSON documents are also kept in memory, and files that look
 * like layer tars are scanned for unsafe entries in the same pass.
 */
import { PassThrough, type Readable } from 'node:stream';
import { SlipwayError } from '../errors.js';
import { readTar, scanTar, type ScanResult } from '../layer/index.js';
import type { BlobStore, StagedBlob } from '../store/blobs.js';
import type { Digest } from '../oci/digest.js';

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

/** Normalises an archive member name: no leading './' or '/', no trailing '/'. */
export function memberName(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
}

function expectedDigest(path: string): Digest | undefined {
  const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
  return m ? (`sha256:${m[1]}` as Digest) : undefined;
}

/** Streams `input` (an uncompressed tar) into staged blobs. On error everything staged is discarded. */
export async function readArchive(input: Readable, blobs: BlobStore, label: string): Promise<ArchiveContents> {
  const contents: ArchiveContents = { files: new Map(), links: new Map() };
  try {
    for await (const entry of readTar(input, { label })) {
      const path = memberName(entry.header.name);
      if (entry.header.type === 'symlink' || entry.header.type === 'link') {
        contents.links.set(path, entry.header.linkname);
        continue;
      }
      if (entry.header.type !== 'file') continue;
      if (contents.files.has(path)) throw new SlipwayError('INVALID_ARCHIVE', `${label}: "${path}" appears twice in the archive`);
      contents.files.set(path, await stageMember(entry, path, blobs, label));
    }
  } catch (err) {
    await discardAll(contents, blobs);
    throw err;
  }
  return contents;
}

/** Discards every staged file of `contents`. */
export async function discardAll(contents: ArchiveContents, blobs: BlobStore): Promise<void> {
  for (const f of contents.files.values()) await blobs.discard(f.blob);
}

async function stageMember(entry: AsyncIterable<Buffer>, path: string, blobs: BlobStore, label: string): Promise<ArchiveFile> {
  const parts: Buffer[] = [];
  let kept = 0;
  let scanner: Scanner | undefined;
  const exp = expectedDigest(path);
  const blob = await blobs.stage(entry, {
    what: `${label}: ${path}`,
    ...(exp ? { expected: { digest: exp } } : {}),
    onChunk: async (chunk) => {
      if (kept <= DOC_LIMIT) {
        kept += chunk.length;
        if (kept <= DOC_LIMIT) parts.push(chunk);
        else parts.length = 0;
      }
      scanner ??= startScanner(chunk, `${label}: layer ${path}`);
      await scanner.feed(chunk);
    },
  });
  const result = scanner ? await scanner.end() : new SlipwayError('INVALID_ARCHIVE', `${label}: layer ${path} is empty`);
  const tarProblem = result instanceof SlipwayError ? result : undefined;
  const scan = result instanceof SlipwayError ? undefined : result;
  return { path, blob, bytes: kept <= DOC_LIMIT ? Buffer.concat(parts) : undefined, tarProblem, scan };
}

interface Scanner {
  feed(chunk: Buffer): Promise<void>;
  end(): Promise<SlipwayError | ScanResult>;
}

/** Scans a member as a layer tar while it streams by; JSON documents get a no-op scanner. */
function startScanner(first: Buffer, label: string): Scanner {
  if (first[0] === 0x7b /* '{' */) {
    const problem = new SlipwayError('INVALID_ARCHIVE', `${label} is not a tar archive`);
    return { feed: async () => undefined, end: async () => problem };
  }
  const pt = new PassThrough({ highWaterMark: 8 << 20 });
  let failed: SlipwayError | undefined;
  const done = scanTar(pt, { label }).catch((err: unknown) => {
    failed = err instanceof SlipwayError ? err : new SlipwayError('INVALID_ARCHIVE', `${label}: ${(err as Error).message}`, { cause: err });
    pt.resume();
    return failed;
  });
  return {
    async feed(chunk) {
      if (failed || pt.write(chunk)) return;
      await new Promise<void>((resolve) => {
        const go = () => { pt.off('drain', go); clearInterval(poll); resolve(); };
        const poll = setInterval(() => failed && go(), 20);
        pt.once('drain', go);
      });
    },
    async end() {
      pt.end();
      return done;
    },
  };
}

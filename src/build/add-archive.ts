/**
 * ADD of a local archive: a source file that is a tar (plain, gzip, bzip2,
 * xz or zstd) is extracted into the destination directory instead of being
 * copied, as BuildKit's copy with AttemptUnpackDockerCompatibility does; a
 * compressed file that is not a tar is copied as it is. Entries keep the
 * archive's modes, owners and mtimes (unless --chown), and the whole layer
 * is produced in layer order by merging sorted entry streams.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { SlipwayError } from '../errors.js';
import { applyLayer } from '../layer/apply.js';
import { decompress, peek } from '../layer/compression.js';
import {
  cleanPath, containsWildcards, copyEntries, goMatch, openContext, resolveSources,
  type CopyEntriesOptions, type CopyPlan, type DestKind, type PlanEntry,
} from './context/index.js';
import type { LayerEntry } from './layer-writer.js';

/** Whether a 512-byte block is a tar header (its checksum field matches, as Go's tar reader checks). */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512 || block.every((b) => b === 0)) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return parseInt(field, 8) === sum;
}

/** Whether the file at `abs` is a tar archive, possibly compressed. */
export async function isArchive(abs: string): Promise<boolean> {
  const input = createReadStream(abs);
  let stream: Readable | undefined;
  try {
    stream = await decompress(input);
    stream.on('error', () => undefined);
    const { head } = await peek(stream, 512);
    return isTarHeader(head);
  } catch {
    return false;
  } finally {
    stream?.destroy();
    input.destroy();
  }
}

/** Plan entries of an ADD that are local archives named directly by a source argument. */
export async function archiveSources(plan: CopyPlan, sources: readonly string[]): Promise<PlanEntry[]> {
  const out: PlanEntry[] = [];
  for (const e of plan.entries) {
    if (e.type !== 'file' || e.hardlinkTo !== undefined) continue;
    const src = cleanPath(sources[e.sourceIndex] ?? '').replace(/^\/+/, '');
    const direct = containsWildcards(src) ? goMatch(src, e.rel) : src === e.rel;
    if (direct && await isArchive(e.abs)) out.push(e);
  }
  return out;
}

/** Options of archiveEntries. */
export interface ArchiveEntriesOptions {
  /** The archive file. */
  abs: string;
  /** Absolute image directory it is extracted into. */
  dest: string;
  /** Where a private extraction directory may be made. */
  tmpRoot: string;
  /** What exists below the layer (for the destination's parents). */
  destKind: (abs: string) => DestKind | undefined;
  /** copyEntries options (chown given only for ADD --chown). */
  copy: CopyEntriesOptions;
}

/** The layer entries of one extracted archive, in layer order, owners from the archive unless --chown. */
export async function* archiveEntries(o: ArchiveEntriesOptions): AsyncGenerator<LayerEntry> {
  await mkdir(o.tmpRoot, { recursive: true });
  const dir = await mkdtemp(join(o.tmpRoot, 'add-'));
  try {
    try {
      await applyLayer({ input: await decompress(createReadStream(o.abs)), dest: dir, label: posix.basename(o.abs), whiteouts: false, chown: true, devices: 'skip' });
    } catch (err) {
      throw new SlipwayError('BUILD', `failed to extract ${posix.basename(o.abs)}: ${(err as Error).message}`, { cause: err });
    }
    const plan = resolveSources(openContext({ dir }), { sources: ['.'], dest: `${o.dest}/`, instruction: 'ADD', destKind: o.destKind });
    yield* keepOwners(copyEntries(plan, o.copy), plan, o.copy.chown === undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Gives copied entries their source owners (COPY --from and extracted
 * archives keep them; the build context's files are root's). Implicit
 * directories keep what copyEntries gave them.
 */
export async function* keepOwners(entries: AsyncIterable<LayerEntry>, plan: CopyPlan, keep: boolean): AsyncGenerator<LayerEntry> {
  if (!keep) {
    yield* entries;
    return;
  }
  const owners = new Map(plan.entries.map((e) => [e.dest.slice(1), e.stats]));
  for await (const e of entries) {
    const st = owners.get(e.header.name.replace(/\/$/, ''));
    yield st ? { ...e, header: { ...e.header, uid: st.uid, gid: st.gid } } : e;
  }
}

const sortKey = (name: string): string => name.replace(/\/$/, '').replaceAll('/', '\u0000');

/** Merges entry streams that are each in layer order; a path seen twice keeps its first entry. */
export async function* mergeEntries(streams: AsyncIterable<LayerEntry>[]): AsyncGenerator<LayerEntry> {
  const its = streams.map((s) => s[Symbol.asyncIterator]());
  try {
    yield* mergeLoop(its, await Promise.all(its.map((it) => it.next())));
  } finally {
    await Promise.all(its.map((it) => it.return?.()));
  }
}

async function* mergeLoop(its: AsyncIterator<LayerEntry>[], heads: IteratorResult<LayerEntry>[]): AsyncGenerator<LayerEntry> {
  let last: string | undefined;
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i] as IteratorResult<LayerEntry>;
      if (h.done) continue;
      const b = best >= 0 ? (heads[best] as IteratorYieldResult<LayerEntry>).value : undefined;
      if (!b || Buffer.compare(Buffer.from(sortKey(h.value.header.name)), Buffer.from(sortKey(b.header.name))) < 0) best = i;
    }
    if (best < 0) return;
    const entry = (heads[best] as IteratorYieldResult<LayerEntry>).value;
    const key = sortKey(entry.header.name);
    if (key !== last) yield entry;
    last = key;
    heads[best] = await (its[best] as AsyncIterator<LayerEntry>).next();
  }
}

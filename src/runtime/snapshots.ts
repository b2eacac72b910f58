/**
 * Unpacked layers: each layer is unpacked once (into `fs/`, its chain of
 * diff IDs beside it in `diffids.json`), in overlay format (whiteouts
 * as 0/0 character devices, opaque directories as `trusted.overlay.opaque`),
 * into `<root>/snapshots/<chainID hex>/`, and used read-only as an overlayfs
 * lower directory by every RUN step and container that needs it.
 *
 * Writes go to `<root>/snapshots/.tmp-*` and are renamed into place, so a
 * snapshot directory is always complete; two processes unpacking the same
 * layer both succeed (the second rename loses and its copy is dropped).
 *
 * Snapshots adopted from a RUN sandbox's upper dir were written under a
 * volatile overlay mount (never synced): they carry `volatile-boot` (the
 * kernel's boot id when they were made), and a snapshot made in an earlier
 * boot is dropped and unpacked again from its layer blob (which is durable),
 * since a crash may have lost part of it.
 *
 * Users: a run or container records the chain IDs it uses in its run record
 * (`<root>/runs/<id>/run.json`) under `<root>/snapshots.lock` before it looks
 * at the snapshots; `removeUnusedSnapshots` deletes, under the same lock, the
 * snapshots that neither a live run record nor the caller's keep set names.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SlipwayError, isErrno } from '../errors.js';
import { applyLayer } from '../layer/index.js';
import { chainIds, digestHex, type Digest } from '../oci/digest.js';
import { processAlive, withLock } from '../store/lock.js';
import { liveRunSnapshots } from './run-records.js';

/** Opens a layer (uncompressed tar) by diff ID. */
export type OpenLayer = (diffId: Digest) => Readable;

/** The snapshots directory of a store. */
export function snapshotsDir(root: string): string {
  return join(root, 'snapshots');
}

/** The lock held while run records are added and while snapshots are removed. */
export function snapshotsLock(root: string): string {
  return join(root, 'snapshots.lock');
}

/** The directory of one snapshot. */
export function snapshotPath(root: string, chainId: Digest): string {
  return join(snapshotsDir(root), digestHex(chainId));
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/** The marker file of a snapshot written without syncing: the boot id of its writer. */
const VOLATILE_MARK = 'volatile-boot';
let bootIdCache: Promise<string> | undefined;
/** Snapshot directories this process found valid (no stale marker). */
const checked = new Set<string>();

/** The kernel's boot id ('' when unreadable: markers then never look stale). */
function bootId(): Promise<string> {
  bootIdCache ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((t) => t.trim(), () => '');
  return bootIdCache;
}

async function staleMark(dest: string): Promise<boolean> {
  const mark = await readFile(join(dest, VOLATILE_MARK), 'utf8').catch(() => undefined);
  return mark !== undefined && mark !== (await bootId());
}

/** Removes the snapshot at `dest` when it was written unsynced in an earlier boot (it is unpacked again). */
async function dropIfStale(root: string, dest: string): Promise<void> {
  if (checked.has(dest)) return;
  if (await staleMark(dest)) {
    const trash = join(snapshotsDir(root), `.tmp-0-gc-${process.pid}-stale-${randomBytes(4).toString('hex')}`);
    const moved = await withLock(snapshotsLock(root), async () => (await staleMark(dest)) && rename(dest, trash).then(() => true, () => false));
    if (moved) await rm(trash, { recursive: true, force: true });
  }
  checked.add(dest);
}

/** Moves a complete tree `fsDir` into place as the snapshot of `diffIds` (the whole chain); false when one exists already. */
async function install(root: string, diffIds: readonly Digest[], fill: (fsDir: string) => Promise<void>, o: InstallOptions = {}): Promise<boolean> {
  const dest = snapshotPath(root, o.top ?? (chainIds([...diffIds]).pop() as Digest));
  if (await exists(dest)) {
    if (o.tmp) await rm(o.tmp, { recursive: true, force: true });
    return false;
  }
  const tmp = o.tmp ?? (await newTmp(root, Boolean(o.unsynced)));
  let moved = false;
  try {
    await fill(join(tmp, 'fs'));
    await writeFile(join(tmp, 'diffids.json'), JSON.stringify(diffIds));
    moved = await rename(tmp, dest).then(() => true, (err: unknown) => {
      if (isErrno(err, 'ENOTEMPTY') || isErrno(err, 'EEXIST')) return false;
      throw err;
    });
    return moved;
  } finally {
    if (!moved) await rm(tmp, { recursive: true, force: true });
  }
}

interface InstallOptions {
  /** Written under a volatile mount: marked with the boot id. */
  unsynced?: boolean;
  /** The chain ID of the whole chain (computed when not given). */
  top?: Digest;
  /** A directory from prepareSnapshotDir (marked as asked there). */
  tmp?: string;
}

/** A new private directory under snapshots/ to fill, marked with the boot id when `unsynced`. */
async function newTmp(root: string, unsynced: boolean): Promise<string> {
  const dir = snapshotsDir(root);
  await mkdir(dir, { recursive: true });
  const tmp = await mkdtemp(join(dir, `.tmp-${process.pid}-`));
  if (unsynced) await writeFile(join(tmp, VOLATILE_MARK), await bootId());
  return tmp;
}

/**
 * Makes the private directory a later adoptSnapshot (unsynced) moves the
 * upper dir into, ahead of time (while the container runs). The caller
 * removes it when it was not used (adoptSnapshot returned false or was not
 * called); gc removes those of dead processes.
 */
export function prepareSnapshotDir(root: string): Promise<string> {
  return newTmp(root, true);
}

/** Unpacks the top layer of `diffIds` (chain ID `top`) into its snapshot directory unless it is there. */
async function ensureOne(root: string, diffIds: readonly Digest[], top: Digest, open: OpenLayer): Promise<void> {
  const diffId = diffIds[diffIds.length - 1] as Digest;
  await dropIfStale(root, snapshotPath(root, top));
  try {
    await install(root, diffIds, async (fsDir) => {
      await applyLayer({ input: open(diffId), dest: fsDir, label: `layer ${diffId}`, whiteoutFormat: 'overlay', chown: true, devices: 'create' });
    }, { top });
  } catch (err) {
    throw new SlipwayError('RUNTIME', `cannot unpack ${diffId}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Keeps a sandbox's overlay upper directory as the snapshot of the layer made
 * from it (it already is that layer in overlay format), instead of unpacking
 * the layer again when a later step needs it. `upper` is moved away.
 * `unsynced`: it was written under a volatile mount (marked with the boot id).
 * `tmp`: a directory from prepareSnapshotDir to use (removed when not used).
 */
export async function adoptSnapshot(root: string, diffIds: readonly Digest[], upper: string, options: { unsynced?: boolean; tmp?: string } = {}): Promise<boolean> {
  return install(root, diffIds, (fsDir) => rename(upper, fsDir), options);
}

/**
 * Makes sure every layer of `diffIds` (bottom first) has its snapshot and
 * returns their directories, bottom first. The caller must have recorded
 * the chain IDs as in use (run record) before calling. The layers are
 * looked at (and missing ones unpacked) concurrently: each snapshot holds
 * one layer, independent of the others.
 */
export async function ensureSnapshots(root: string, diffIds: readonly Digest[], open: OpenLayer): Promise<string[]> {
  const chain = chainIds([...diffIds]);
  await Promise.all(chain.map((top, i) => ensureOne(root, diffIds.slice(0, i + 1), top, open)));
  return chain.map((c) => join(snapshotPath(root, c), 'fs'));
}

/** What removeUnusedSnapshots did. */
export interface SnapshotGcResult {
  removed: Digest[];
}

/** What the store still has: a snapshot is kept when its chain ID is listed, or when every layer of its chain is. */
export interface SnapshotKeep {
  /** Chain IDs to keep (containers' images, for instance). */
  chainIds?: Iterable<Digest>;
  /** Layer diff IDs still in the store after its gc (images, cache records). */
  diffIds?: Iterable<Digest>;
}

async function chainOf(dir: string): Promise<Digest[] | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'diffids.json'), 'utf8')) as Digest[];
  } catch {
    return undefined;
  }
}

/**
 * The garbage-collection hook for the store: removes every snapshot that is
 * not kept by `keep` nor used by a live run, plus unpacks that a crashed
 * process left in `.tmp-*`. Holds the snapshots lock while deciding;
 * deletes outside it after renaming each victim away.
 */
export async function removeUnusedSnapshots(root: string, keep: SnapshotKeep): Promise<SnapshotGcResult> {
  const dir = snapshotsDir(root);
  const keepHex = new Set([...(keep.chainIds ?? [])].map((d) => digestHex(d)));
  const diffIds = new Set(keep.diffIds ?? []);
  const trash: string[] = [];
  const removed: Digest[] = [];
  await mkdir(dir, { recursive: true });
  await withLock(snapshotsLock(root), async () => {
    for (const d of await liveRunSnapshots(root)) keepHex.add(digestHex(d));
    for (const name of await readdir(dir)) {
      if (name.startsWith('.tmp-')) {
        if (!processAlive(Number(name.slice(5).split('-')[0]))) trash.push(join(dir, name));
        continue;
      }
      if (!/^[a-f0-9]{64}$/.test(name) || keepHex.has(name)) continue;
      const chain = await chainOf(join(dir, name));
      if (chain && chain.every((d) => diffIds.has(d))) continue;
      const t = join(dir, `.tmp-0-gc-${process.pid}-${name}`);
      await rename(join(dir, name), t);
      trash.push(t);
      removed.push(`sha256:${name}`);
    }
  });
  for (const t of trash) await rm(t, { recursive: true, force: true });
  return { removed };
}

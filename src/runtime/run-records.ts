/**
 * Run records: every sandbox (a RUN step or a container) has a directory
 * `<root>/runs/<id>/` holding `run.json` (who owns it, which snapshots it
 * uses, where its rootfs is mounted, which runtime state it has), its upper
 * and work directories, its /etc files and its bundle. A record whose owner
 * process is gone belongs to a crashed run and is cleaned by cleanupStale.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { processAlive } from '../store/lock.js';

/** The content of run.json. */
export interface RunRecord {
  id: string;
  /** The process that owns the sandbox (the CLI for a RUN, the monitor for a container). */
  pid: number;
  /** Chain IDs of the snapshots mounted as lower directories. */
  snapshots: Digest[];
  /** The OCI runtime binary and its state root (`--root`). */
  runtime: string;
  runtimeRoot: string;
  createdAt: string;
}

/** The directory of all run records. */
export function runsDir(root: string): string {
  return join(root, 'runs');
}

/** Writes a record atomically. */
export async function writeRunRecord(dir: string, rec: RunRecord): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.run.json.${process.pid}`);
  await writeFile(tmp, JSON.stringify(rec));
  await rename(tmp, join(dir, 'run.json'));
}

/** Reads a record (undefined when missing or unreadable). */
export async function readRunRecord(dir: string): Promise<RunRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

/** Every run directory with its record (undefined for a directory whose record was never written). */
export async function listRuns(root: string): Promise<{ dir: string; name: string; record: RunRecord | undefined }[]> {
  let names: string[];
  try {
    names = await readdir(runsDir(root));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const out = [];
  for (const name of names) {
    const dir = join(runsDir(root), name);
    out.push({ dir, name, record: await readRunRecord(dir) });
  }
  return out;
}

/**
 * True when `pid` is a live process: it exists and is not a zombie (a
 * killed monitor whose new parent does not reap it stays a zombie, which
 * `kill(pid, 0)` alone counts as alive).
 */
export function ownerAlive(pid: number): boolean {
  if (!processAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** True when the run's owner is alive. A directory without a record is live while its name's pid is. */
export function runAlive(name: string, rec: RunRecord | undefined): boolean {
  if (rec) return ownerAlive(rec.pid);
  return ownerAlive(Number(name.split('-')[1]));
}

/** The chain IDs used by live runs. */
export async function liveRunSnapshots(root: string): Promise<Digest[]> {
  const out: Digest[] = [];
  for (const r of await listRuns(root)) if (r.record && runAlive(r.name, r.record)) out.push(...r.record.snapshots);
  return out;
}

/**
 * Cleaning up after crashed runs: a run directory whose owner process is
 * gone still has its container (maybe running), its rootfs mount and its
 * files. `cleanupStale` kills and deletes such containers, unmounts
 * everything under their directories and removes them. Cheap when there is
 * nothing to do (one readdir), so the CLI can call it at the start of every
 * build and run.
 */
import { rm } from 'node:fs/promises';
import { deleteContainer, listContainers } from './oci-runtime.js';
import { unmountUnder } from './mounts.js';
import { listRuns, runAlive, type RunRecord } from './run-records.js';

/** What cleanupStale removed. */
export interface StaleCleanup {
  /** Run directories removed. */
  runs: string[];
  /** Containers killed and deleted. */
  containers: string[];
  /** Mounts removed. */
  mounts: number;
}

async function killContainers(rec: RunRecord, out: StaleCleanup): Promise<void> {
  const h = { path: rec.runtime, stateRoot: rec.runtimeRoot };
  for (const c of await listContainers(h)) {
    if (c.id !== rec.id && !c.id.startsWith(`${rec.id}-`)) continue;
    await deleteContainer(h, c.id, true);
    out.containers.push(c.id);
  }
}

/** Removes the leftovers of runs whose owner process has died. */
export async function cleanupStale(root: string): Promise<StaleCleanup> {
  const out: StaleCleanup = { runs: [], containers: [], mounts: 0 };
  for (const r of await listRuns(root)) {
    if (runAlive(r.name, r.record)) continue;
    if (r.record) await killContainers(r.record, out);
    out.mounts += await unmountUnder(r.dir);
    await rm(r.dir, { recursive: true, force: true });
    out.runs.push(r.name);
  }
  return out;
}

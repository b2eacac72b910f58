/**
 * Container records under `<root>/containers/<id>/`:
 *
 * - `config.json`: what the container is (written at creation, then only
 *   by `rename`): image, command, Docker's Config and the host options;
 * - `state.json`: where it is in its life (created, running, exited), the
 *   monitor's and the process's pids, exit code and times; replaced
 *   atomically (write-temp + rename) by the monitor and the CLI;
 * - `<id>-json.log`: its output in Docker's json-file format;
 * - `hostname`, `hosts`, `resolv.conf`: bind-mounted into it;
 * - `upper/`, `work/`: its writable layer (overlayfs upper and work dirs).
 *
 * Names are unique: creation holds `<root>/containers.lock` while it checks.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError, isErrno } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { ContainerConfig } from '../oci/types.js';
import { withLock } from '../store/lock.js';
import type { NetworkMode } from '../runtime/index.js';
import { randomName } from './names.js';

/** A published port (`-p [IP:]HOST:CTR[/PROTO]`). */
export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  proto: 'tcp' | 'udp';
  /** `-p 8000-8010:80`: any free host port from hostPort to this one. */
  hostPortEnd?: number;
}

/** The host side of a container (Docker's HostConfig, the parts slipway supports). */
export interface HostOptions {
  /** `-v HOST:CTR[:ro]` as given. */
  binds: string[];
  ports: PortBinding[];
  network: NetworkMode;
  autoRemove: boolean;
  /** Bytes (0: unlimited). */
  memory: number;
  /** CPUs, fractional (0: unlimited). */
  cpus: number;
}

/** What a container is: written once when it is created. */
export interface ContainerRecord {
  id: string;
  /** Without the leading '/'. */
  name: string;
  created: string;
  /** The image ID and the manifest/layers it was created from (kept by gc while the container exists). */
  image: Digest;
  manifest: Digest;
  layers: Digest[];
  /** The process: Path and Args as Docker's inspect shows them. */
  path: string;
  args: string[];
  /** Docker's container Config (Image is the name the user typed). */
  config: ContainerConfig;
  host: HostOptions;
  /** The OCI runtime that runs it. */
  runtime: { name: string; path: string };
}

/** The life-cycle states a user sees. */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'exited' | 'removing' | 'dead';

/** Where a container is in its life (state.json). */
export interface ContainerState {
  status: ContainerStatus;
  /** The container's init process (0 when not running). */
  pid: number;
  /** The monitor process (0 when none). */
  monitorPid: number;
  exitCode: number;
  error: string;
  startedAt: string;
  finishedAt: string;
  /** The port relay process inside the container's network namespace (0 when none). */
  relayPid?: number;
  /** Published ports as bound while running (a requested host port 0 replaced by the one picked). */
  ports?: PortBinding[];
  /** Frozen by `pause` (the cgroup freezer); meaningful only while status is running. */
  paused?: boolean;
}

/** A container: its record and state. */
export interface Container {
  record: ContainerRecord;
  state: ContainerState;
  dir: string;
}

/** Go's zero time as Docker prints it. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The directory holding every container. */
export function containersDir(root: string): string {
  return join(root, 'containers');
}

/** The directory of one container. */
export function containerDir(root: string, id: string): string {
  return join(containersDir(root), id);
}

/** The json-file log of a container. */
export function logPath(root: string, id: string): string {
  return join(containerDir(root, id), `${id}-json.log`);
}

async function writeAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}-${randomBytes(3).toString('hex')}`;
  await writeFile(tmp, JSON.stringify(value));
  await rename(tmp, path);
}

/** Replaces a container's state.json atomically. */
export async function writeState(root: string, id: string, state: ContainerState): Promise<void> {
  await writeAtomic(join(containerDir(root, id), 'state.json'), state);
}

/** Reads, changes and writes a container's state (no-op when the container is gone). */
export async function updateState(root: string, id: string, change: (s: ContainerState) => ContainerState | void): Promise<ContainerState | undefined> {
  const c = await readContainer(root, id);
  if (!c) return undefined;
  const next = change({ ...c.state }) ?? c.state;
  await writeState(root, id, next).catch((err: unknown) => {
    if (!isErrno(err, 'ENOENT')) throw err;
  });
  return next;
}

/** Reads one container (undefined when missing or half-written). */
export async function readContainer(root: string, id: string): Promise<Container | undefined> {
  const dir = containerDir(root, id);
  try {
    const [rec, st] = await Promise.all([readFile(join(dir, 'config.json'), 'utf8'), readFile(join(dir, 'state.json'), 'utf8')]);
    return { record: JSON.parse(rec) as ContainerRecord, state: JSON.parse(st) as ContainerState, dir };
  } catch {
    return undefined;
  }
}

/** Every container, newest first (as `ps` lists them). */
export async function listContainerRecords(root: string): Promise<Container[]> {
  let names: string[];
  try {
    names = await readdir(containersDir(root));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const all = await Promise.all(names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => readContainer(root, n)));
  return all.filter((c): c is Container => c !== undefined).sort((a, b) => b.record.created.localeCompare(a.record.created));
}

/** Docker's "No such container" error. */
export function noSuchContainer(word: string): SlipwayError {
  return new SlipwayError('NOT_FOUND', `No such container: ${word}`);
}

/** Finds a container by full ID, name, or unique ID prefix, as the daemon does; undefined when none. */
export function findContainer(all: readonly Container[], word: string): Container | undefined {
  const w = word.replace(/^\//, '');
  const exact = all.find((c) => c.record.id === w) ?? all.find((c) => c.record.name === w);
  if (exact) return exact;
  if (!/^[a-f0-9]+$/.test(w)) return undefined;
  const matches = all.filter((c) => c.record.id.startsWith(w));
  if (matches.length > 1) throw new SlipwayError('INVALID_ARGUMENT', `Multiple IDs found with provided prefix: ${w}`);
  return matches[0];
}

/** findContainer, NOT_FOUND when none. */
export async function resolveContainer(root: string, word: string): Promise<Container> {
  const c = findContainer(await listContainerRecords(root), word);
  if (!c) throw noSuchContainer(word);
  return c;
}

/** The record of a new container, without id, name and created (filled by createContainerRecord). */
export type NewContainer = Omit<ContainerRecord, 'id' | 'name' | 'created'> & { name?: string };

/**
 * Creates a container's directory and records (state `created`) with a new
 * 64-hex ID and its name (`--name`, checked unique, or a random one).
 */
export async function createContainerRecord(root: string, spec: NewContainer, now = new Date()): Promise<Container> {
  const id = randomBytes(32).toString('hex');
  await mkdir(containersDir(root), { recursive: true });
  return withLock(join(root, 'containers.lock'), async () => {
    const all = await listContainerRecords(root);
    const taken = new Set(all.map((c) => c.record.name));
    let name = spec.name;
    if (name !== undefined) {
      const owner = all.find((c) => c.record.name === name);
      if (owner) throw nameConflict(name, owner.record.id);
    } else {
      for (let retry = 0; name === undefined || taken.has(name); retry++) name = randomName(retry > 5 ? 1 : 0);
    }
    const record: ContainerRecord = { ...spec, id, name, created: now.toISOString() };
    const state: ContainerState = { status: 'created', pid: 0, monitorPid: 0, exitCode: 0, error: '', startedAt: ZERO_TIME, finishedAt: ZERO_TIME };
    const dir = containerDir(root, id);
    await mkdir(dir, { recursive: true, mode: 0o710 });
    await writeAtomic(join(dir, 'state.json'), state);
    await writeAtomic(join(dir, 'config.json'), record);
    return { record, state, dir };
  });
}

function nameConflict(name: string, ownerId: string): SlipwayError {
  return new SlipwayError('CONFLICT', `Conflict. The container name "/${name}" is already in use by container "${ownerId}". You have to remove (or rename) that container to be able to reuse that name.`, { exitCode: 125 });
}

/**
 * Gives a container a new name (the one thing of config.json that changes
 * after creation: rewritten atomically under the containers lock, where
 * names are checked unique).
 */
export async function renameContainer(root: string, id: string, newName: string): Promise<void> {
  await withLock(join(root, 'containers.lock'), async () => {
    const all = await listContainerRecords(root);
    const c = all.find((x) => x.record.id === id);
    if (!c) throw noSuchContainer(id);
    if (c.record.name === newName) throw new SlipwayError('INVALID_ARGUMENT', 'Renaming a container with the same name as its current name');
    const owner = all.find((x) => x.record.name === newName);
    if (owner) throw new SlipwayError('CONFLICT', `Error when allocating new name: ${nameConflict(newName, owner.record.id).message}`);
    await writeAtomic(join(containerDir(root, id), 'config.json'), { ...c.record, name: newName });
  });
}

/** How long the exit code of a removed container stays readable (`wait` on an `--rm` container). */
const EXIT_KEPT_MS = 60_000;

const exitedPath = (root: string, id: string) => join(containersDir(root), `.exited-${id}`);

/**
 * Before a container's directory goes: when it has exited, leave its exit
 * code in `.exited-ID` beside it, for a `wait` that saw it running; ones
 * older than EXIT_KEPT_MS are swept here.
 */
async function keepExitCode(root: string, id: string): Promise<void> {
  const c = await readContainer(root, id);
  if (c?.state.status === 'exited') {
    const tmp = `${exitedPath(root, id)}.${process.pid}`;
    await writeFile(tmp, String(c.state.exitCode));
    await rename(tmp, exitedPath(root, id));
  }
  for (const name of await readdir(containersDir(root)).catch(() => [] as string[])) {
    if (!name.startsWith('.exited-') || name.includes('.', 1)) continue;
    const file = join(containersDir(root), name);
    const st = await stat(file).catch(() => undefined);
    if (st !== undefined && st.mtimeMs < Date.now() - EXIT_KEPT_MS) await rm(file, { force: true });
  }
}

/** The exit code of a container removed in the last minute, or undefined. */
export async function removedExitCode(root: string, id: string): Promise<number | undefined> {
  const text = await readFile(exitedPath(root, id), 'utf8').catch(() => undefined);
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Removes a container's directory (its writable layer and logs). */
export async function removeContainerDir(root: string, id: string): Promise<void> {
  await keepExitCode(root, id);
  const dir = containerDir(root, id);
  const trash = join(containersDir(root), `.rm-${id}-${process.pid}`);
  await rename(dir, trash).catch((err: unknown) => {
    if (!isErrno(err, 'ENOENT')) throw err;
  });
  await rm(trash, { recursive: true, force: true });
}

/** The images containers use, for rmi/prune and gc: id, image and whether the container runs (monitor alive). */
export async function imageUsers(root: string, alive: (pid: number) => boolean): Promise<{ id: string; image: Digest; running: boolean; manifest: Digest; layers: Digest[] }[]> {
  return (await listContainerRecords(root)).map((c) => ({
    id: c.record.id, image: c.record.image, manifest: c.record.manifest, layers: c.record.layers,
    running: c.state.status === 'running' && alive(c.state.monitorPid),
  }));
}

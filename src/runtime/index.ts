/**
 * The OCI runtime layer: runs processes in containers on runc (or crun),
 * for RUN steps of builds and for long-lived containers.
 *
 * ## Using it
 *
 * ```ts
 * const sb = await Sandbox.create({ root, layers: diffIds, openLayer: (d) => blobs.open(d) });
 * try {
 *   const res = await sb.run({ args, env, cwd, user, hostname, network: 'host' | 'none',
 *     files: [{ path: '/etc/hosts', content }], mounts: [...], resources: { memory, cpus, pidsLimit },
 *     onOutput: (chunk, stream) => ..., signal });          // res.exitCode, res.aborted, res.user
 *   for await (const e of sb.diff()) ...                     // the upper dir as Docker's layer entries
 *   await sb.keepAsSnapshot([...diffIds, newLayer]);         // optional: the upper dir becomes a snapshot
 * } finally {
 *   await sb.release();                                      // unmount, remove the run dir
 * }
 * ```
 *
 * - `<root>/snapshots/<chainID hex>/fs`: one unpacked layer (overlay format),
 *   `diffids.json` its chain. Shared read-only by every sandbox.
 *   `removeUnusedSnapshots(root, { diffIds, chainIds })` is the store gc's hook.
 * - `<root>/runs/<id>/`: a sandbox: `run.json` (owner pid, snapshots, runtime),
 *   `l/` (symlinks to the lower dirs), `upper/`, `work/`, `rootfs/` (the
 *   overlay mount point), `files-N/` (host-provided files), `config.json`.
 * - `<root>/runtime/<runc|crun>/`: the runtime's state root (`--root`).
 * - `<root>/cache-mounts/`: `RUN --mount=type=cache` directories.
 * - `cleanupStale(root)`: kills, unmounts and removes what crashed runs left;
 *   call at the start of `build` and `run` (one readdir when clean).
 *
 * For long-lived containers: `Sandbox.run` runs in the foreground; a monitor
 * process can call it (its pid should own the run record: see run-records.ts)
 * and the lower-level `runBundle`/`killContainer`/`deleteContainer` and
 * `buildSpec` are exported for `exec`, `stop` and detached runs.
 */
export { cgroupLayout, cgroupVersion, selectRuntime, RUNTIME_PACKAGES } from './host.js';
export type { CgroupLayout, RuntimeInfo, RuntimeName, SelectRuntimeOptions } from './host.js';
export { Sandbox } from './sandbox.js';
export type { RunSpec, SandboxFile, SandboxOptions, SandboxRunResult } from './sandbox.js';
export { buildSpec, defaultMounts, resourcesOf, DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from './spec.js';
export type { BuildSpecOptions, NetworkMode, OciSpec, ProcessSpec, ResourceLimits, SpecMount } from './spec.js';
export { adoptSnapshot, ensureSnapshots, removeUnusedSnapshots, snapshotPath, snapshotsDir } from './snapshots.js';
export type { OpenLayer, SnapshotGcResult, SnapshotKeep } from './snapshots.js';
export { deleteContainer, killContainer, lastRuntimeError, listContainers, runBundle } from './oci-runtime.js';
export type { RunBundleOptions, RunResult, RuntimeHandle } from './oci-runtime.js';
export { mountOverlay, mountPoints, unmount, unmountUnder } from './mounts.js';
export { hostRun, hostSpawn, warmHostShell } from './host-shell.js';
export type { HostResult, HostRunOptions, HostSpawnOptions } from './host-shell.js';
export { cleanupStale } from './stale.js';
export type { StaleCleanup } from './stale.js';
export { withCacheMounts, cacheMountsDir } from './cache-mounts.js';
export type { CacheMountRequest } from './cache-mounts.js';
export { builderHosts, containerHosts, resolvConf } from './etc-files.js';
export { resolveUser } from './user.js';
export type { ProcessUser } from './user.js';
export { existsInRoot, mkdirInRoot, resolveInRoot } from './rootfs-path.js';
export { listRuns, ownerAlive, readRunRecord, runAlive, runsDir, writeRunRecord } from './run-records.js';
export { snapshotsLock } from './snapshots.js';
export type { RunRecord } from './run-records.js';

/**
 * A sandbox: an overlayfs rootfs over layer snapshots, a run directory and
 * an OCI runtime to run processes in it. Serves RUN steps (one process,
 * then the diff of the upper dir becomes a layer) and containers (the
 * containers layer keeps the sandbox while the container lives).
 *
 * Life cycle: `Sandbox.create` (record, snapshots, mount) → `run` (one or
 * more times) → `diff` (optional) → `release` (always, in a finally).
 */
import { randomBytes } from 'node:crypto';
import { chown, lstat, mkdir, readFile, readdir, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { SlipwayError } from '../errors.js';
import { overlayDiff, type DiffEntry } from '../layer/index.js';
import { chainIds, type Digest } from '../oci/digest.js';
import { withLock } from '../store/lock.js';
import { selectRuntime, type RuntimeInfo } from './host.js';
import { hostRun, warmHostShell } from './host-shell.js';
import { mountOverlay, unmount } from './mounts.js';
import { deleteContainer, runBundle, type RunResult, type RuntimeHandle } from './oci-runtime.js';
import { existsInRoot, mkdirInRoot } from './rootfs-path.js';
import { runsDir, writeRunRecord } from './run-records.js';
import { adoptSnapshot, ensureSnapshots, prepareSnapshotDir, snapshotsLock, type OpenLayer } from './snapshots.js';
import { buildSpec, type NetworkMode, type ResourceLimits, type SpecMount } from './spec.js';
import { resolveUser, type ProcessUser } from './user.js';

/** Options of Sandbox.create. */
export interface SandboxOptions {
  /** The store root. */
  root: string;
  /** Diff IDs of the image's layers, bottom first. */
  layers: readonly Digest[];
  openLayer: OpenLayer;
  /** The runtime (selected when not given). */
  runtime?: RuntimeInfo;
}

/** A file the sandbox provides from the host, bind-mounted (never in the upper dir). */
export interface SandboxFile {
  /** Absolute path in the container. */
  path: string;
  content: string | Buffer;
  /** Permission bits (default 0644). */
  mode?: number;
  uid?: number;
  gid?: number;
  readonly?: boolean;
}

/** What to run. */
export interface RunSpec {
  args: string[];
  env: string[];
  /** Working directory (created, owned by root, when missing: as BuildKit and Docker do). */
  cwd: string;
  /** USER as written (`name`, `uid`, `name:group`, `uid:gid`); empty for root. */
  user?: string;
  hostname: string;
  network: NetworkMode;
  /** Files provided from the host (/etc/hosts, /etc/resolv.conf, /etc/hostname, secrets, heredoc scripts). */
  files?: SandboxFile[];
  /** More mounts (binds, tmpfs, cache directories). */
  mounts?: SpecMount[];
  resources?: ResourceLimits;
  /** RLIMIT_NOFILE (default 1048576). */
  nofile?: number;
  onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  /** Aborting kills the process. */
  signal?: AbortSignal;
}

/** The result of a run, with the user it ran as. */
export interface SandboxRunResult extends RunResult {
  user: ProcessUser;
}

let seq = 0;
/** getfattr's output for the diff, in the run directory. */
const XATTRS_FILE = 'xattrs.txt';
let nofileCache: Promise<number> | undefined;

/** Docker's RLIMIT_NOFILE for containers (1048576), within this process's hard limit (raising it needs CAP_SYS_RESOURCE in the host's user namespace, which a sandboxed CI may lack). */
function defaultNofile(): Promise<number> {
  nofileCache ??= readFile('/proc/self/limits', 'utf8').then((t) => {
    const m = /^Max open files\s+\S+\s+(\S+)/m.exec(t);
    const hard = m?.[1] === 'unlimited' ? Infinity : Number(m?.[1]);
    return Number.isFinite(hard) && hard > 0 ? Math.min(1048576, hard) : 1048576;
  }, () => 1048576);
  return nofileCache;
}

/** A mounted rootfs and the run directory around it. */
export class Sandbox {
  private readonly stubs = new Set<string>();
  private mounted = true;
  private unmounting: Promise<void> | undefined;
  private tidying: Promise<void> | undefined;
  private snapshotDir: Promise<string> | undefined;
  private runs = 0;

  private constructor(
    /** Unique id, also the runtime's container id. */
    readonly id: string,
    /** The run directory (bundle). */
    readonly dir: string,
    /** The mounted rootfs. */
    readonly rootfs: string,
    readonly runtime: RuntimeInfo,
    private readonly handle: RuntimeHandle,
    private readonly root: string,
  ) {}

  /** The overlay upper directory (the sandbox's changes). */
  get upper(): string {
    return join(this.dir, 'upper');
  }

  /** Records the sandbox, unpacks missing snapshots and mounts the rootfs. */
  static async create(o: SandboxOptions): Promise<Sandbox> {
    warmHostShell(); // starts while the record is written (the mount runs there)
    const runtime = o.runtime ?? (await selectRuntime({ skipVersion: true }));
    const id = `r-${process.pid}-${(seq++).toString(36)}${randomBytes(4).toString('hex')}`;
    const dir = join(runsDir(o.root), id);
    const stateRoot = join(o.root, 'runtime', runtime.name);
    const record = {
      id, pid: process.pid, snapshots: chainIds([...o.layers]), runtime: runtime.path, runtimeRoot: stateRoot, createdAt: new Date().toISOString(),
    };
    await mkdir(dir, { recursive: true });
    await withLock(snapshotsLock(o.root), () => writeRunRecord(dir, record));
    try {
      const lowers = await ensureSnapshots(o.root, o.layers, o.openLayer);
      const rootfs = await mountOverlay({ runDir: dir, lowers, volatile: true });
      return new Sandbox(id, dir, rootfs, runtime, { path: runtime.path, stateRoot }, o.root);
    } catch (err) {
      await unmount(join(dir, 'rootfs')).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Runs one process to completion in the sandbox. */
  async run(r: RunSpec): Promise<SandboxRunResult> {
    const n = this.runs++;
    const filesDir = join(this.dir, `files-${n}`);
    const files = r.files ?? [];
    const host = (i: number) => join(filesDir, String(i));
    const writeFiles = async () => {
      await mkdir(filesDir, { recursive: true });
      await Promise.all(files.map(async (f, i) => {
        await writeFile(host(i), f.content, { mode: f.mode ?? 0o644 });
        if (f.uid !== undefined || f.gid !== undefined) await chown(host(i), f.uid ?? 0, f.gid ?? 0);
      }));
    };
    // Independent preparations, concurrently: the user, the working directory, the host files, which file mounts need a stub.
    const [user, , , present] = await Promise.all([
      resolveUser(this.rootfs, r.user), mkdirInRoot(this.rootfs, r.cwd), writeFiles(),
      Promise.all(files.map((f) => f.path.startsWith('/dev/') || existsInRoot(this.rootfs, f.path))),
    ]);
    const mounts: SpecMount[] = files.map((f, i) => {
      if (!present[i]) this.stubs.add(f.path);
      return { destination: f.path, type: 'bind', source: host(i), options: ['rbind', f.readonly === false ? 'rw' : 'ro', 'rprivate'] };
    });
    mounts.push(...(r.mounts ?? []));
    const spec = buildSpec({
      process: { args: r.args, env: r.env, cwd: r.cwd, user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) } },
      rootfs: this.rootfs, hostname: r.hostname, network: r.network, mounts, cgroupsPath: `slipway/${this.id}-${n}`,
      ...(r.resources ? { resources: r.resources } : {}), nofile: r.nofile ?? (await defaultNofile()),
    });
    await writeFile(join(this.dir, 'config.json'), JSON.stringify(spec));
    const cid = n === 0 ? this.id : `${this.id}-${n}`;
    try {
      const running = runBundle({ handle: this.handle, bundle: this.dir, id: cid, ...(r.onOutput ? { onOutput: r.onOutput } : {}), ...(r.signal ? { signal: r.signal } : {}) });
      warmHostShell(); // a second shell for the unmount and getfattr that follow, while the runtime runs in the first
      this.snapshotDir ??= prepareSnapshotDir(this.root); // where keepAsSnapshot moves the upper dir
      this.snapshotDir.catch(() => undefined);
      const res = await running;
      if (res.aborted) await deleteContainer(this.handle, cid, true);
      return { ...res, user };
    } catch (err) {
      await deleteContainer(this.handle, cid, true);
      throw err;
    }
  }

  /** Unmounts the rootfs (the upper dir stays readable); stub files of file mounts are removed from the upper dir. */
  unmount(): Promise<void> {
    this.unmounting ??= this.doUnmount();
    return this.unmounting;
  }

  private async doUnmount(): Promise<void> {
    if (!this.mounted) return;
    try {
      await unmount(this.rootfs);
    } catch (err) {
      this.unmounting = undefined;
      throw err;
    }
    this.mounted = false;
    // What the runs needed goes now, while the layer is written: release() then removes an almost empty directory.
    this.tidying = this.tidy();
    this.tidying.catch(() => undefined);
    for (const p of this.stubs) {
      const abs = join(this.upper, p);
      const st = await lstat(abs).catch(() => undefined);
      if (st?.isFile() && st.size === 0) await unlink(abs);
    }
  }

  /** Removes the run directory's entries but the upper dir, the record and the diff's xattr list. */
  private async tidy(): Promise<void> {
    const keep = new Set(['upper', 'run.json', XATTRS_FILE]);
    const names = await readdir(this.dir);
    await Promise.all(names.filter((n) => !keep.has(n)).map((n) => rm(join(this.dir, n), { recursive: true, force: true })));
  }

  /** getfattr through the host shell, its output through a file in the run directory. */
  private async getfattr(args: string[]): Promise<string> {
    const file = join(this.dir, XATTRS_FILE);
    const r = await hostRun('getfattr', args, { stdoutFile: file });
    if (r.code === 127) throw new SlipwayError('UNSUPPORTED', 'getfattr is not installed (Debian package attr)');
    if (r.code > 1) throw new SlipwayError('RUNTIME', `getfattr failed: ${r.stderr.trim() || `exit status ${r.code}`}`);
    return readFile(file, 'latin1'); // status 1: some file has no attributes; the list is complete
  }

  /**
   * The layer entries of what the runs changed (Docker's overlay diff). The
   * rootfs is unmounted meanwhile (nothing writes to it once the runs have
   * ended, so the upper dir reads the same; `keepAsSnapshot` and `release`
   * wait for the unmount); stub files are left out.
   */
  async *diff(options: { clampMtime?: number } = {}): AsyncGenerator<DiffEntry> {
    const unmounted = this.unmount();
    unmounted.catch(() => undefined);
    const stubs = new Set([...this.stubs].map((p) => posix.normalize(p).replace(/^\/+/, '')));
    yield* overlayDiff({
      upper: this.upper, getfattr: (args) => this.getfattr(args), ...(stubs.size > 0 ? { exclude: (rel: string) => stubs.has(rel) } : {}),
      ...(options.clampMtime !== undefined ? { clampMtime: options.clampMtime } : {}),
    });
  }

  /**
   * Keeps the upper dir as the snapshot of the layer made from it, so that a
   * later step does not unpack that layer again. `diffIds`: the layers below
   * it and, last, its own diff ID. Call after the layer is committed.
   */
  async keepAsSnapshot(diffIds: readonly Digest[]): Promise<void> {
    await this.unmount();
    const tmp = await this.snapshotDir?.catch(() => undefined);
    this.snapshotDir = undefined;
    await adoptSnapshot(this.root, diffIds, this.upper, { unsynced: true, ...(tmp ? { tmp } : {}) });
  }

  /** Unmounts and removes the run directory. Safe to call twice. */
  async release(): Promise<void> {
    try {
      await this.unmount();
    } catch (err) {
      throw new SlipwayError('RUNTIME', `cannot unmount ${this.rootfs}: ${(err as Error).message}`, { cause: err });
    }
    await this.tidying?.catch(() => undefined);
    const unused = this.snapshotDir?.then((d) => rm(d, { recursive: true, force: true }), () => undefined);
    this.snapshotDir = undefined;
    // Usually only the record and the xattr list are left (the upper dir became a snapshot).
    await Promise.all(['run.json', XATTRS_FILE].map((f) => unlink(join(this.dir, f)).catch(() => undefined)));
    await rmdir(this.dir).catch(() => rm(this.dir, { recursive: true, force: true }));
    await unused;
  }
}

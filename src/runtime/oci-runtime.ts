/**
 * Driving an OCI runtime binary (runc or crun: same command line): run a
 * bundle in the foreground with piped output, kill, delete, and list the
 * containers of a state root.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { SlipwayError } from '../errors.js';
import { hostSpawn } from './host-shell.js';

/** The binary and the state root (`--root`) of a runtime. */
export interface RuntimeHandle {
  /** Path of runc or crun. */
  path: string;
  /** State directory passed as `--root`. */
  stateRoot: string;
}

/** Options of runBundle. */
export interface RunBundleOptions {
  handle: RuntimeHandle;
  /** Bundle directory holding config.json. */
  bundle: string;
  id: string;
  /** Called with each chunk the container writes (stdout and stderr). */
  onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  /** Aborting kills the container (SIGKILL) and waits for it to be gone. */
  signal?: AbortSignal;
}

/** How a container ended. */
export interface RunResult {
  /** The exit status (128+N when killed by signal N, as the runtime reports it). */
  exitCode: number;
  /** True when it ended because `signal` was aborted. */
  aborted: boolean;
}

function exec(path: string, args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(path, args, { timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Sends `sig` to the container's init. */
export async function killContainer(h: RuntimeHandle, id: string, sig = 'KILL'): Promise<boolean> {
  return (await exec(h.path, ['--root', h.stateRoot, 'kill', id, sig])).code === 0;
}

/** Deletes the container's runtime state (killing it first with force). */
export async function deleteContainer(h: RuntimeHandle, id: string, force = true): Promise<void> {
  await exec(h.path, ['--root', h.stateRoot, 'delete', ...(force ? ['--force'] : []), id]);
}

/** The containers the runtime knows in this state root (id and status). */
export async function listContainers(h: RuntimeHandle): Promise<{ id: string; status: string; pid: number }[]> {
  const r = await exec(h.path, ['--root', h.stateRoot, 'list', '--format', 'json']);
  if (r.code !== 0) return [];
  try {
    const list = JSON.parse(r.stdout || '[]') as { id: string; status: string; pid: number }[] | null;
    return list ?? [];
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Stops a starting or running container when the run is aborted: `runtime kill` until the runtime has exited, then SIGKILL to the runtime itself. */
class Stopper {
  aborted = false;
  exited = false;
  pid: number | undefined;
  private readonly listener = () => this.abort();

  constructor(private readonly o: RunBundleOptions) {
    if (o.signal?.aborted) this.abort();
    else o.signal?.addEventListener('abort', this.listener, { once: true });
  }

  private abort(): void {
    this.aborted = true;
    void (async () => {
      // The container may still be being created: retry until the runtime process is gone.
      for (let i = 0; !this.exited; i++) {
        await killContainer(this.o.handle, this.o.id, 'KILL');
        if (this.exited) break;
        if (i === 100 && this.pid) {
          try {
            process.kill(this.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        await sleep(20);
      }
    })();
  }

  done(): void {
    this.exited = true;
    this.o.signal?.removeEventListener('abort', this.listener);
  }
}

/**
 * Runs the bundle in the foreground (`<runtime> run`), output piped to
 * `onOutput`, standard input closed. Resolves when the container has exited
 * and the runtime has removed its state. The runtime is started by the
 * resident host shell (host-shell.ts: no fork of this process), else
 * spawned directly.
 */
export async function runBundle(o: RunBundleOptions): Promise<RunResult> {
  const stop = new Stopper(o);
  const args = ['--root', o.handle.stateRoot, 'run', '--bundle', o.bundle, o.id];
  let code: number | undefined;
  try {
    code = await hostSpawn(o.handle.path, args, { onOutput: (c, s) => o.onOutput?.(c, s), onPid: (pid) => (stop.pid = pid) });
  } finally {
    if (code !== undefined) stop.done();
  }
  if (code === -1) throw new SlipwayError('RUNTIME', `${o.handle.path} run ${o.id}: the host shell running it was killed`);
  if (code !== undefined) return { exitCode: code, aborted: stop.aborted };
  return runDirect(o, args, stop);
}

function runDirect(o: RunBundleOptions, args: string[], stop: Stopper): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.handle.path, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    stop.pid = child.pid;
    child.stdout.on('data', (c: Buffer) => o.onOutput?.(c, 'stdout'));
    child.stderr.on('data', (c: Buffer) => o.onOutput?.(c, 'stderr'));
    child.on('error', (err) => {
      stop.done();
      reject(new SlipwayError('RUNTIME', `cannot start ${o.handle.path}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, sig) => {
      stop.done();
      resolve({ exitCode: code ?? 128 + signalNumber(sig), aborted: stop.aborted });
    });
  });
}

function signalNumber(sig: NodeJS.Signals | null): number {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return sig ? table[sig] ?? 9 : 0;
}

/** The last error message in a runc/crun JSON log file (`--log-format json`), or '' when none. */
export async function lastRuntimeError(logPath: string): Promise<string> {
  const text = await readFile(logPath, 'utf8').catch(() => '');
  let msg = '';
  for (const line of text.split('\n')) {
    try {
      const e = JSON.parse(line) as { level?: string; msg?: string };
      if (e.level === 'error' && e.msg) msg = e.msg;
    } catch {
      // not a JSON line
    }
  }
  return msg;
}

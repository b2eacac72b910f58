/**
 * The monitor: one process per running container (`slipway __monitor ID`,
 * started detached in its own session), which outlives the CLI. It mounts
 * the rootfs, binds published ports, runs the OCI runtime in the foreground
 * (`runc run`, so the runtime's exit status is the container's), writes
 * the output to the json-file log (and to its own stdout/stderr when the
 * CLI is attached), records the state, and when the container ends:
 * records the exit code and time, unmounts, removes the run directory and,
 * for `--rm`, the container. Its own exit status is the container's.
 *
 * TTY: `runc run` with a terminal needs a terminal on its own stdio (it
 * makes it raw and proxies it to the container's pty). When the CLI is
 * attached to a terminal the monitor hands its inherited terminal to runc;
 * otherwise runc runs under util-linux `script`, which provides one (the
 * output then reaches the log through script).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError } from '../errors.js';
import { killContainer, lastRuntimeError, warmHostShell } from '../runtime/index.js';
import { LogWriter } from './logs.js';
import { listenPorts, type PortForwarder } from './ports.js';
import { containerDir, logPath, readContainer, removeContainerDir, updateState, type ContainerRecord } from './records.js';
import { prepareBundle, releaseBundle, runDirOf, stateRootOf } from './rootfs.js';

/** What the monitor reports to the CLI that started it, once (fd 3). */
export interface ReadyMessage {
  ok: boolean;
  error?: string;
  exitCode?: number;
}

/** Options of runMonitor. */
export interface MonitorOptions {
  root: string;
  id: string;
  /** The CLI waits on this process: copy the output to our stdout/stderr too. */
  attach: boolean;
  /** The CLI prepared the bundle (rootfs mounted, spec written) while we started. */
  prepared?: boolean;
  /** Keep the container's stdin open (ours when attached). */
  interactive: boolean;
  /** Called once when the container has started or failed to. */
  ready: (m: ReadyMessage) => void;
  /** The slipway script (for the relay process). */
  cliPath: string;
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** The exit status Docker gives a start failure: 127 not found, 126 not executable, 125 otherwise. */
export function startFailureCode(msg: string): number {
  if (/executable file not found|no such file or directory/i.test(msg)) return 127;
  if (/permission denied|exec format error|is a directory/i.test(msg)) return 126;
  return 125;
}

function spawnRuntime(rec: ContainerRecord, runDir: string, o: MonitorOptions): ChildProcess {
  const args = ['--root', stateRootOf(o.root, rec.runtime.name), '--log', join(runDir, 'runc.log'), '--log-format', 'json',
    'run', '--pid-file', join(runDir, 'pid'), '--bundle', runDir, rec.id];
  const stdin = o.interactive ? (o.attach ? 'inherit' : 'pipe') : 'ignore';
  if (rec.config.Tty) {
    if (o.attach && process.stdin.isTTY && process.stdout.isTTY) return spawn(rec.runtime.path, args, { stdio: 'inherit' });
    const cmd = [rec.runtime.path, ...args].map(quote).join(' ');
    return spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: [o.interactive && o.attach ? 'inherit' : 'pipe', 'pipe', 'pipe'] });
  }
  return spawn(rec.runtime.path, args, { stdio: [stdin, 'pipe', 'pipe'] as StdioOptions });
}

async function waitStarted(runDir: string, child: ChildProcess): Promise<number | undefined> {
  let exited = child.exitCode !== null || child.signalCode !== null;
  child.once('exit', () => { exited = true; });
  for (;;) {
    const pid = Number((await readFile(join(runDir, 'pid'), 'utf8').catch(() => '')).trim());
    if (pid > 0) return pid;
    if (exited) return undefined;
    await sleep(3);
  }
}

async function runtimeError(runDir: string, stderr: string): Promise<string> {
  const logged = await lastRuntimeError(join(runDir, 'runc.log'));
  const msg = (logged || stderr.trim() || 'the OCI runtime failed').replace(/^runc run failed: /, '');
  return `failed to create shim task: OCI runtime create failed: runc create failed: ${msg}: unknown`;
}

function startRelay(pid: number, cdir: string, cliPath: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const relay = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, '--', process.execPath, cliPath, '__relay', 'relay.sock'], { cwd: cdir, stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => reject(new SlipwayError('RUNTIME', 'the port relay did not start')), 15_000);
    relay.on('error', (err) => reject(new SlipwayError('RUNTIME', `cannot start the port relay (nsenter, Debian package util-linux): ${err.message}`, { cause: err })));
    relay.on('exit', () => reject(new SlipwayError('RUNTIME', 'the port relay exited')));
    relay.stdout?.once('data', () => {
      clearTimeout(timer);
      relay.stdout?.destroy();
      resolve(relay);
    });
  });
}

/** Output that came before the start was confirmed: the runtime's error, or the container's first output. */
type Early = { chunk: Buffer; stream: 'stdout' | 'stderr' }[];

/**
 * Copies the runtime's output to the log (and to our stdio when attached);
 * until `started()` it is held in `early`; returns the function that
 * replays it once the start is confirmed.
 */
function pipeOutput(child: ChildProcess, log: LogWriter, attach: boolean, started: () => boolean, early: Early): () => void {
  const emit = (chunk: Buffer, stream: 'stdout' | 'stderr') => {
    log.write(chunk, stream);
    if (attach) (stream === 'stdout' ? process.stdout : process.stderr).write(chunk);
  };
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]?.on('data', (chunk: Buffer) => {
      if (started()) emit(chunk, stream);
      else early.push({ chunk, stream });
    });
  }
  return () => {
    for (const e of early.splice(0)) emit(e.chunk, e.stream);
  };
}

/** Runs one container from start to end; resolves with its exit status. */
export async function runMonitor(o: MonitorOptions): Promise<number> {
  const c = await readContainer(o.root, o.id);
  if (!c) {
    o.ready({ ok: false, error: `No such container: ${o.id}`, exitCode: 125 });
    return 125;
  }
  const rec = c.record;
  const cdir = containerDir(o.root, rec.id);
  process.chdir(cdir);
  // Recorded while the runtime starts (a monitor that dies before is found through the run record it owns).
  const recorded = updateState(o.root, rec.id, (s) => ({ ...s, monitorPid: process.pid, error: '' }));
  recorded.catch(() => undefined);
  let ports: PortForwarder | undefined;
  let runDir: string;
  try {
    if (rec.host.network === 'private' && rec.host.ports.length > 0) ports = await listenPorts(rec.host.ports);
    runDir = o.prepared ? runDirOf(o.root, rec.id) : (await prepareBundle(o.root, rec)).runDir;
  } catch (err) {
    await ports?.close();
    if (o.prepared) await releaseBundle(o.root, rec.id).catch(() => undefined);
    await recorded.catch(() => undefined);
    return fail(o, rec, err);
  }
  const log = new LogWriter(logPath(o.root, rec.id));
  const child = spawnRuntime(rec, runDir, o);
  let pid = 0;
  const early: Early = [];
  const replay = pipeOutput(child, log, o.attach, () => pid > 0, early);
  const closed = new Promise<number>((resolve) => {
    child.on('error', (err) => { early.push({ chunk: Buffer.from(err.message), stream: 'stderr' }); resolve(125); });
    child.on('close', (code, sig) => resolve(code ?? 128 + (sig === 'SIGKILL' ? 9 : 15)));
  });
  const handle = { path: rec.runtime.path, stateRoot: stateRootOf(o.root, rec.runtime.name) };
  for (const s of SIGNALS) process.on(s, () => void killContainer(handle, rec.id, s.slice(3)));
  warmHostShell(); // for the unmount at the end, while the runtime starts the container
  await recorded;
  pid = (await waitStarted(runDir, child)) ?? 0;
  if (pid > 0) replay();
  let relay: ChildProcess | undefined;
  if (pid === 0) {
    const code = await closed;
    const error = await runtimeError(runDir, Buffer.concat(early.map((e) => e.chunk)).toString());
    await releaseBundle(o.root, rec.id);
    return fail(o, rec, new SlipwayError('RUNTIME', error, { exitCode: code === 125 ? 125 : startFailureCode(error) }));
  }
  try {
    if (ports) {
      relay = await startRelay(pid, cdir, o.cliPath);
      ports.activate('relay.sock');
    }
    await updateState(o.root, rec.id, (s) => ({
      ...s, status: 'running', pid, exitCode: 0, startedAt: new Date().toISOString(), relayPid: relay?.pid ?? 0, ...(ports ? { ports: ports.bindings } : {}),
    }));
    o.ready({ ok: true });
  } catch (err) {
    await killContainer(handle, rec.id, 'KILL');
    o.ready({ ok: false, error: (err as Error).message, exitCode: 125 });
  }
  const exitCode = await closed;
  await log.close();
  relay?.kill('SIGKILL');
  await ports?.close();
  await Promise.all([
    updateState(o.root, rec.id, (s) => ({ ...s, status: 'exited', pid: 0, exitCode, finishedAt: new Date().toISOString(), relayPid: 0 })),
    releaseBundle(o.root, rec.id),
  ]);
  if (rec.host.autoRemove) await removeContainerDir(o.root, rec.id);
  return exitCode;
}

async function fail(o: MonitorOptions, rec: ContainerRecord, err: unknown): Promise<number> {
  const e = err as SlipwayError;
  const exitCode = e.exitCode ?? 125;
  await updateState(o.root, rec.id, (s) => ({ ...s, monitorPid: 0, pid: 0, exitCode, error: e.message }));
  o.ready({ ok: false, error: e.message, exitCode });
  if (rec.host.autoRemove) await removeContainerDir(o.root, rec.id);
  return exitCode;
}

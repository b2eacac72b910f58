/**
 * Running short host programs (mount, umount, getfattr) through a small
 * resident `/bin/sh` loop instead of a new process from Node each time: a
 * fork of the Node process costs 3-6 ms on a loaded machine, a fork of the
 * shell well under 1 ms, and a RUN step runs three such programs.
 *
 * Protocol: one request per line (a command line with every word
 * single-quoted, run with `eval`, its standard input /dev/null, its standard
 * output to /dev/null unless the command redirects it, its standard error
 * back to us), answered by the command's standard error and then a line
 * `\x01rc=N`. One request at a time per shell; a second shell is started
 * when all are busy. The shells are unreferenced while idle (they never
 * keep the CLI alive) and end when our end of their stdin closes, which
 * the kernel does when this process exits or is killed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { isErrno } from '../errors.js';

/** How a host command ended. */
export interface HostResult {
  /** Exit status (127: not found). */
  code: number;
  stderr: string;
}

/** Options of hostRun. */
export interface HostRunOptions {
  /** Working directory (default /). */
  cwd?: string;
  /** Write the command's standard output to this file instead of discarding it. */
  stdoutFile?: string;
}

const LOOP = 'while IFS= read -r l; do eval "$l" </dev/null 2>&1; printf \'\\001rc=%d\\n\' "$?"; done';
const MSG = /\x01(rc|pid)=(\d+)\n/;
/** How long a short program (hostRun) may take. */
const RUN_TIMEOUT_MS = 60_000;

/** Output of a spawned program, on the shell's fds 3 and 4, until the request's end token. */
interface Streams {
  token: Buffer;
  onData: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  open: Set<'stdout' | 'stderr'>;
  ended: () => void;
}

interface Shell {
  child: ChildProcess;
  out: string;
  done?: (r: HostResult) => void;
  onPid?: (pid: number) => void;
  streams?: Streams;
  pending: Record<'stdout' | 'stderr', Buffer>;
}

const idle: Shell[] = [];
let disabled = false;

function quote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

function setRef(sh: Shell, on: boolean): void {
  const handles = [sh.child, sh.child.stdin, sh.child.stdout, sh.child.stdio[3], sh.child.stdio[4]] as ({ ref?: () => void; unref?: () => void } | null)[];
  for (const h of handles) (on ? h?.ref : h?.unref)?.call(h);
}

/** Passes a spawned program's output on, up to its end token (which may arrive split over chunks). */
function onStream(sh: Shell, stream: 'stdout' | 'stderr', chunk: Buffer): void {
  const st = sh.streams;
  if (!st || !st.open.has(stream)) return;
  const buf = Buffer.concat([sh.pending[stream], chunk]);
  const at = buf.indexOf(st.token);
  if (at >= 0) {
    if (at > 0) st.onData(buf.subarray(0, at), stream);
    sh.pending[stream] = Buffer.alloc(0);
    st.open.delete(stream);
    if (st.open.size === 0) st.ended();
    return;
  }
  const keep = Math.min(buf.length, st.token.length - 1);
  if (buf.length > keep) st.onData(buf.subarray(0, buf.length - keep), stream);
  sh.pending[stream] = Buffer.from(buf.subarray(buf.length - keep));
}

function onMessage(sh: Shell, c: string): void {
  sh.out += c;
  for (let m = MSG.exec(sh.out); m; m = MSG.exec(sh.out)) {
    const before = sh.out.slice(0, m.index);
    sh.out = sh.out.slice(m.index + m[0].length);
    if (m[1] === 'pid') {
      sh.onPid?.(Number(m[2]));
      sh.out = before + sh.out;
      continue;
    }
    const done = sh.done;
    sh.done = undefined;
    done?.({ code: Number(m[2]), stderr: before });
  }
}

function startShell(): Shell | undefined {
  let child: ChildProcess;
  try {
    // Its own process group: a terminal's ^C reaches the CLI, which stops what runs here itself.
    child = spawn('/bin/sh', ['-c', LOOP], { stdio: ['pipe', 'pipe', 'ignore', 'pipe', 'pipe'], cwd: '/', detached: true });
  } catch {
    return undefined;
  }
  const sh: Shell = { child, out: '', pending: { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) } };
  const fail = () => {
    disabled = true;
    const i = idle.indexOf(sh);
    if (i >= 0) idle.splice(i, 1);
    sh.streams?.ended();
    sh.done?.({ code: -1, stderr: '' });
    sh.done = undefined;
  };
  child.on('error', fail);
  child.on('exit', fail);
  child.stdin?.on('error', () => undefined);
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => onMessage(sh, c));
  (child.stdio[3] as Readable | null)?.on('data', (c: Buffer) => onStream(sh, 'stdout', c));
  (child.stdio[4] as Readable | null)?.on('data', (c: Buffer) => onStream(sh, 'stderr', c));
  return sh;
}

function direct(cmd: string, args: readonly string[], o: HostRunOptions): Promise<HostResult> {
  if (o.stdoutFile !== undefined) return direct('/bin/sh', ['-c', `exec ${[cmd, ...args].map(quote).join(' ')} > ${quote(o.stdoutFile)}`], { cwd: o.cwd ?? '/' });
  return new Promise((resolve) => {
    execFile(cmd, [...args], { cwd: o.cwd ?? '/', timeout: 60_000, maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      if (!err) resolve({ code: 0, stderr });
      else if (isErrno(err, 'ENOENT')) resolve({ code: 127, stderr: `${cmd}: not found` });
      else resolve({ code: typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1, stderr });
    });
  });
}

/** Starts an idle shell now (e.g. while a container runs) so that the next hostRun does not wait for its start. */
export function warmHostShell(): void {
  if (disabled || idle.length > 0) return;
  const sh = startShell();
  if (!sh) return;
  setRef(sh, false);
  idle.push(sh);
}

/**
 * Runs `cmd args` on the host and resolves with its status and standard
 * error (never rejects: a command that cannot start is status 127). Falls
 * back to a direct spawn when the shell is unavailable or an argument holds
 * a newline.
 */
export async function hostRun(cmd: string, args: readonly string[], o: HostRunOptions = {}): Promise<HostResult> {
  if (disabled || [cmd, ...args, o.cwd ?? '', o.stdoutFile ?? ''].some((a) => a.includes('\n') || a.includes('\0'))) return direct(cmd, args, o);
  const sh = idle.pop() ?? startShell();
  if (!sh) return direct(cmd, args, o);
  setRef(sh, true);
  const line = `cd ${quote(o.cwd ?? '/')} && ${[cmd, ...args].map(quote).join(' ')} >${quote(o.stdoutFile ?? '/dev/null')}\n`;
  let timedOut = false;
  const res = await new Promise<HostResult>((resolve) => {
    sh.child.stdin?.write(line);
    // A program that hangs (a stuck unmount): the shell and it are killed, as execFile's timeout would.
    const timer = setTimeout(() => {
      timedOut = true;
      killShell(sh);
    }, RUN_TIMEOUT_MS);
    timer.unref();
    sh.done = (r) => {
      clearTimeout(timer);
      resolve(r);
    };
  });
  if (timedOut) return { code: 124, stderr: `${cmd}: timed out after ${RUN_TIMEOUT_MS / 1000} s` };
  if (res.code === -1) return direct(cmd, args, o);
  setRef(sh, false);
  idle.push(sh);
  return res;
}

/** Kills a shell and what it runs (its own process group). */
function killShell(sh: Shell): void {
  try {
    if (sh.child.pid) process.kill(-sh.child.pid, 'SIGKILL');
  } catch {
    sh.child.kill('SIGKILL');
  }
}

/** Options of hostSpawn. */
export interface HostSpawnOptions {
  cwd?: string;
  /** Each chunk the program writes, in order per stream. */
  onOutput: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  /** Called with the program's pid once it runs. */
  onPid?: (pid: number) => void;
}

/**
 * Runs a long program (the OCI runtime) from the host shell, its standard
 * input /dev/null and its output passed on as it comes; resolves with its
 * exit status (128+N when killed by signal N) once all its output was
 * passed on, or undefined when the shell is not available (the caller then
 * spawns it itself).
 */
export async function hostSpawn(cmd: string, args: readonly string[], o: HostSpawnOptions): Promise<number | undefined> {
  if (disabled || [cmd, ...args, o.cwd ?? ''].some((a) => a.includes('\n') || a.includes('\0'))) return undefined;
  const sh = idle.pop() ?? startShell();
  if (!sh) return undefined;
  setRef(sh, true);
  const token = `\x01slipway-end-${randomBytes(12).toString('hex')}\x01`;
  const printed = `\\001${token.slice(1, -1)}\\001`;
  let ended!: () => void;
  const allOutput = new Promise<void>((resolve) => (ended = resolve));
  sh.streams = { token: Buffer.from(token), onData: o.onOutput, open: new Set(['stdout', 'stderr']), ended };
  if (o.onPid) sh.onPid = o.onPid;
  const run = `${[cmd, ...args].map(quote).join(' ')} >&3 2>&4 & p=$!; printf '\\001pid=%d\\n' "$p"; wait "$p"; r=$?; printf '${printed}' >&3; printf '${printed}' >&4; (exit "$r")`;
  const res = await new Promise<HostResult>((resolve) => {
    sh.done = resolve;
    sh.child.stdin?.write(`cd ${quote(o.cwd ?? '/')} && { ${run}; }\n`);
  });
  await allOutput;
  sh.streams = undefined;
  sh.onPid = undefined;
  if (res.code === -1) return res.code;
  setRef(sh, false);
  idle.push(sh);
  return res.code;
}

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
const END = /\x01rc=(\d+)\n/;

interface Shell {
  child: ChildProcess;
  out: string;
  done?: (r: HostResult) => void;
}

const idle: Shell[] = [];
let disabled = false;

function quote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

function setRef(sh: Shell, on: boolean): void {
  const handles = [sh.child, sh.child.stdin, sh.child.stdout] as ({ ref?: () => void; unref?: () => void } | null)[];
  for (const h of handles) (on ? h?.ref : h?.unref)?.call(h);
}

function startShell(): Shell | undefined {
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', LOOP], { stdio: ['pipe', 'pipe', 'ignore'], cwd: '/' });
  } catch {
    return undefined;
  }
  const sh: Shell = { child, out: '' };
  const fail = () => {
    disabled = true;
    const i = idle.indexOf(sh);
    if (i >= 0) idle.splice(i, 1);
    sh.done?.({ code: -1, stderr: '' });
    sh.done = undefined;
  };
  child.on('error', fail);
  child.on('exit', fail);
  child.stdin?.on('error', () => undefined);
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => {
    sh.out += c;
    const m = END.exec(sh.out);
    if (!m) return;
    const res = { code: Number(m[1]), stderr: sh.out.slice(0, m.index) };
    sh.out = sh.out.slice(m.index + m[0].length);
    const done = sh.done;
    sh.done = undefined;
    done?.(res);
  });
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
  const res = await new Promise<HostResult>((resolve) => {
    sh.done = resolve;
    sh.child.stdin?.write(line);
  });
  if (res.code === -1) return direct(cmd, args, o);
  setRef(sh, false);
  idle.push(sh);
  return res;
}

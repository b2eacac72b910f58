/**
 * Operations on a running container through its OCI runtime: `pause` /
 * `unpause` (`runc pause` / `runc resume`: the cgroup freezer), `top` (the
 * container's processes, `runc ps`, shown by the host's `ps`), and the
 * exit-code wait. Errors carry the daemon's messages.
 */
import { execFile } from 'node:child_process';
import { SlipwayError } from '../errors.js';
import { ownerAlive as processAlive } from '../runtime/index.js';
import { waitStopped } from './lifecycle.js';
import { readContainer, removedExitCode, updateState, type Container } from './records.js';
import { stateRootOf } from './rootfs.js';
import { effectiveStatus } from './view.js';

function runtimeExec(root: string, c: Container, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const full = ['--root', stateRootOf(root, c.record.runtime.name), ...args];
  return new Promise((resolve) => {
    execFile(c.record.runtime.path, full, { timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function runtimeMessage(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  const last = lines[lines.length - 1] ?? 'the OCI runtime failed';
  const m = /msg="([^"]*)"/.exec(last);
  return m?.[1] ?? last;
}

function notRunning(c: Container): SlipwayError {
  return new SlipwayError('CONFLICT', `Container ${c.record.id} is not running`);
}

/** Freezes a running container (`Container ID is already paused` / `is not running` otherwise). */
export async function pauseContainer(root: string, c: Container): Promise<void> {
  const status = effectiveStatus(c);
  if (status === 'paused') throw new SlipwayError('CONFLICT', `Container ${c.record.id} is already paused`);
  if (status !== 'running') throw notRunning(c);
  const r = await runtimeExec(root, c, ['pause', c.record.id]);
  if (r.code !== 0) throw new SlipwayError('RUNTIME', `Cannot pause container ${c.record.id}: ${runtimeMessage(r.stderr)}`);
  await updateState(root, c.record.id, (s) => ({ ...s, paused: true }));
}

/** Thaws a paused container (`Container ID is not paused` otherwise). */
export async function unpauseContainer(root: string, c: Container): Promise<void> {
  if (effectiveStatus(c) !== 'paused') throw new SlipwayError('CONFLICT', `Container ${c.record.id} is not paused`);
  const r = await runtimeExec(root, c, ['resume', c.record.id]);
  if (r.code !== 0) throw new SlipwayError('RUNTIME', `Cannot unpause container ${c.record.id}: ${runtimeMessage(r.stderr)}`);
  await updateState(root, c.record.id, (s) => ({ ...s, paused: false }));
}

/** Thaws a frozen container without checks (after SIGKILL, so the kill is delivered). */
export async function thawAfterKill(root: string, c: Container): Promise<void> {
  if (!c.state.paused) return;
  await runtimeExec(root, c, ['resume', c.record.id]);
  await updateState(root, c.record.id, (s) => ({ ...s, paused: false }));
}

/** The host PIDs of a running container's processes (`runc ps --format json`). */
export async function containerPids(root: string, c: Container): Promise<number[]> {
  const status = effectiveStatus(c);
  if (status !== 'running' && status !== 'paused') throw notRunning(c);
  const r = await runtimeExec(root, c, ['ps', '--format', 'json', c.record.id]);
  if (r.code !== 0) throw new SlipwayError('RUNTIME', runtimeMessage(r.stderr));
  return (JSON.parse(r.stdout || '[]') as number[] | null) ?? [];
}

/**
 * Waits until the container is not running (a created one returns at once)
 * and returns its exit code, as `wait` prints it. Polls its state; an
 * `--rm` container removed meanwhile leaves its code for a minute
 * (removedExitCode).
 */
export async function waitExitCode(root: string, c: Container): Promise<number> {
  let last = c;
  for (;;) {
    if (last.state.status !== 'running') return last.state.exitCode;
    if (!processAlive(last.state.monitorPid)) {
      await waitStopped(root, last.record.id);
      return (await readContainer(root, last.record.id))?.state.exitCode ?? (await removedExitCode(root, last.record.id)) ?? 137;
    }
    await new Promise((r) => setTimeout(r, 5));
    const now = await readContainer(root, last.record.id);
    if (!now) return (await removedExitCode(root, last.record.id)) ?? 137;
    last = now;
  }
}

/**
 * Container life cycle from the CLI's side: starting (spawning the monitor
 * and waiting for its report), signalling, stopping, removing, and
 * reconciling what a crashed monitor left (the next command notices, kills
 * and unmounts through cleanupStale, and records the container as exited).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { SlipwayError } from '../errors.js';
import { ownerAlive as processAlive } from '../runtime/index.js';
import { cleanupStale, killContainer } from '../runtime/index.js';
import type { ReadyMessage } from './monitor.js';
import {
  listContainerRecords, readContainer, removeContainerDir, updateState, type Container,
} from './records.js';
import { prepareBundle, releaseBundle, stateRootOf } from './rootfs.js';
import { thawAfterKill } from './control.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True when the container's monitor is alive (the container may be running). */
export function isRunning(c: Container): boolean {
  return c.state.status === 'running' && processAlive(c.state.monitorPid);
}

/**
 * Finds containers whose monitor died (killed, host crash) while they were
 * running or starting: kills what is left of them, unmounts, and records
 * them as exited (137, as a killed container). Cheap when there is nothing to do.
 */
export async function reconcile(root: string): Promise<string[]> {
  const dead = (await listContainerRecords(root)).filter((c) => c.state.monitorPid > 0 && !processAlive(c.state.monitorPid));
  if (dead.length === 0) return [];
  await cleanupStale(root);
  for (const c of dead) {
    if (c.state.relayPid && processAlive(c.state.relayPid)) process.kill(c.state.relayPid, 'SIGKILL');
    await releaseBundle(root, c.record.id);
    const wasRunning = c.state.status === 'running';
    await updateState(root, c.record.id, (s) => ({
      ...s, status: wasRunning ? 'exited' : s.status, pid: 0, monitorPid: 0, relayPid: 0,
      ...(wasRunning ? { exitCode: s.exitCode || 137, finishedAt: new Date().toISOString(), error: s.error || 'the container monitor died' } : {}),
    }));
    if (c.record.host.autoRemove) await removeContainerDir(root, c.record.id);
  }
  return dead.map((c) => c.record.id);
}

/** Options of startContainer. */
export interface StartOptions {
  /** Wait for the container; its output goes to our stdout/stderr. */
  attach: boolean;
  /** Pass our stdin to the container (attach) or keep its stdin open. */
  interactive: boolean;
  /** The slipway script to run the monitor with (default: this process's). */
  cliPath?: string;
}

/** A started container: the monitor (a child while attached) and its report. */
export interface Started {
  monitor: ChildProcess;
  ready: ReadyMessage;
}

function readReady(stream: Readable): Promise<ReadyMessage> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (c: Buffer) => {
      text += c.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        stream.destroy();
        resolve(JSON.parse(text.slice(0, nl)) as ReadyMessage);
      }
    });
    stream.on('error', () => undefined);
    stream.on('close', () => resolve({ ok: false, error: 'the container monitor exited before starting the container', exitCode: 125 }));
  });
}

/**
 * A monitor process started before its container exists (its Node start-up
 * overlaps the CLI's work): `go` hands it the container and waits for its
 * report; `abort` makes it exit.
 */
export interface PendingMonitor {
  go(c: Container): Promise<Started>;
  abort(): void;
}

/** Spawns a monitor that waits (on fd 3) for the ID of the container to run. */
export function spawnMonitor(root: string, o: StartOptions): PendingMonitor {
  const cli = o.cliPath ?? process.argv[1] ?? '';
  const flags = [...(o.attach ? ['--attach'] : []), ...(o.interactive ? ['--interactive'] : []), '-'];
  // The monitor's own small bundle beside the CLI's starts sooner than `slipway __monitor`.
  const entry = join(dirname(cli), 'monitor.cjs');
  const args = existsSync(entry) ? [entry, '--root', root, '--cli', cli, ...flags] : [cli, '--root', root, '__monitor', ...flags];
  const monitor = spawn(process.execPath, args, {
    detached: true, cwd: '/',
    stdio: o.attach ? [o.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit', 'pipe'] : ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const channel = monitor.stdio[3] as Duplex;
  channel.on('error', () => undefined);
  return {
    async go(c) {
      if (isRunning(c)) throw new SlipwayError('CONFLICT', `container ${c.record.id.slice(0, 12)} is already running`);
      // The bundle is prepared here while the monitor boots (owned by the monitor); on failure the monitor tries and reports.
      const prepared = monitor.pid !== undefined && monitor.exitCode === null
        && await prepareBundle(root, c.record, { ownerPid: monitor.pid }).then(() => true, () => false);
      channel.write(`${c.record.id}${prepared ? ' prepared' : ''}\n`);
      const ready = await readReady(channel);
      if (!o.attach) monitor.unref();
      return { monitor, ready };
    },
    abort() {
      channel.destroy();
      monitor.unref();
    },
  };
}

/** Starts a created or exited container's monitor and waits until the container runs (or failed to start). */
export async function startContainer(root: string, c: Container, o: StartOptions): Promise<Started> {
  if (c.state.paused && !isRunning(c)) await updateState(root, c.record.id, (s) => ({ ...s, paused: false }));
  return spawnMonitor(root, o).go(c);
}

/** Waits until the container is no longer running and its monitor has finished (or `timeoutMs` passed); true when it has. */
export async function waitStopped(root: string, id: string, timeoutMs = Infinity): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = await readContainer(root, id);
    if (!c || (c.state.status !== 'running' && !processAlive(c.state.monitorPid))) return true;
    if (!processAlive(c.state.monitorPid)) {
      await reconcile(root);
      return true;
    }
    if (Date.now() >= until) return false;
    await sleep(20);
  }
}

/**
 * Sends a signal (name without SIG, or a number) to a running container;
 * `word` is the name or ID as the user typed it (for the message). A paused
 * container is thawed after SIGKILL so the kill is delivered (as the daemon does).
 */
export async function signalContainer(root: string, c: Container, signal: string, word = c.record.id.slice(0, 12)): Promise<void> {
  if (!isRunning(c)) {
    throw new SlipwayError('CONFLICT', `Cannot kill container: ${word}: Container ${c.record.id} is not running`);
  }
  const handle = { path: c.record.runtime.path, stateRoot: stateRootOf(root, c.record.runtime.name) };
  if (!(await killContainer(handle, c.record.id, signal))) {
    const again = await readContainer(root, c.record.id);
    if (again && isRunning(again)) throw new SlipwayError('RUNTIME', `Cannot kill container: ${word}: the runtime refused signal ${signal}`);
  }
  if (signal === 'KILL' || signal === '9') await thawAfterKill(root, c);
}

/** Docker's normalisation of a signal name: `SIGTERM`, `term`, `15` → what runc kill accepts. */
export function signalArg(sig: string): string {
  if (/^\d+$/.test(sig)) return sig;
  const up = sig.toUpperCase();
  return up.startsWith('SIG') ? up.slice(3) : up;
}

/** Stops a container: its stop signal (default SIGTERM), then SIGKILL after `timeoutSec`. */
export async function stopContainer(root: string, c: Container, timeoutSec = 10): Promise<void> {
  if (!isRunning(c)) return;
  await signalContainer(root, c, signalArg(c.record.config.StopSignal || 'SIGTERM')).catch(() => undefined);
  if (await waitStopped(root, c.record.id, timeoutSec * 1000)) return;
  await signalContainer(root, c, 'KILL').catch(() => undefined);
  await waitStopped(root, c.record.id);
}

/** Removes a container; a running one only with `force` (killed first). */
export async function removeContainer(root: string, c: Container, force: boolean): Promise<void> {
  if (isRunning(c)) {
    if (!force && c.state.paused) {
      throw new SlipwayError('CONFLICT', `You cannot remove a paused container ${c.record.id}. Unpause and then stop the container before attempting removal or force remove`);
    }
    if (!force) {
      throw new SlipwayError('CONFLICT', `You cannot remove a running container ${c.record.id}. Stop the container before attempting removal or force remove`);
    }
    await signalContainer(root, c, 'KILL').catch(() => undefined);
    await waitStopped(root, c.record.id, 20_000);
  }
  await updateState(root, c.record.id, (s) => ({ ...s, status: 'removing' }));
  await releaseBundle(root, c.record.id);
  await removeContainerDir(root, c.record.id);
}

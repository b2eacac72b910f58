/**
 * How containers are shown: the COMMAND string (arguments with spaces in
 * single quotes, as the daemon's list does), STATUS (`Up 3 seconds`,
 * `Exited (0) 2 minutes ago`, `Created`), PORTS and the State object of
 * `inspect`.
 */
import { ownerAlive as processAlive } from '../runtime/index.js';
import { displayablePorts, type ListedPort } from './ports.js';
import type { Container } from './records.js';

/** The daemon's Command of a container in lists: Path then Args, an argument with a space in single quotes. */
export function commandString(c: Container): string {
  const args = c.record.args.map((a) => (a.includes(' ') ? `'${a}'` : a));
  return args.length > 0 ? `${c.record.path} ${args.join(' ')}` : c.record.path;
}

/** The state a user sees, correcting a running state whose monitor is gone (reconcile has not run yet); `paused` for a frozen one. */
export function effectiveStatus(c: Container): Container['state']['status'] {
  if (c.state.status === 'running' && !processAlive(c.state.monitorPid)) return 'exited';
  if (c.state.status === 'running' && c.state.paused) return 'paused';
  return c.state.status;
}

/** go-units HumanDuration (as humanize.ts, kept here so container/ does not import cli/). */
function humanDuration(ms: number): string {
  const s = Math.trunc(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.trunc(ms / 60_000);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.floor((ms + 1_800_000) / 3_600_000);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.trunc(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.trunc(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.trunc(h / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** The STATUS column. */
export function statusString(c: Container, now: number): string {
  switch (effectiveStatus(c)) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(c.state.startedAt))}`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(c.state.startedAt))} (Paused)`;
    case 'exited': {
      const fin = Date.parse(c.state.finishedAt);
      return `Exited (${c.state.exitCode || (c.state.status === 'running' ? 137 : 0)}) ${humanDuration(now - (Number.isFinite(fin) && fin > 0 ? fin : now))} ago`;
    }
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}

/** True while the container's process exists (running or paused). */
function alive(c: Container): boolean {
  const s = effectiveStatus(c);
  return s === 'running' || s === 'paused';
}

/** The ports the daemon lists for a container: published bindings while it runs, and exposed ports not published. */
export function listedPorts(c: Container): ListedPort[] {
  if (!alive(c) || c.record.host.network === 'host') return [];
  const bound = c.state.ports ?? [];
  const out: ListedPort[] = bound.map((b) => ({ ip: b.hostIp, publicPort: b.hostPort, privatePort: b.containerPort, type: b.proto }));
  for (const p of Object.keys(c.record.config.ExposedPorts ?? {})) {
    if (bound.some((b) => `${b.containerPort}/${b.proto}` === p)) continue;
    const [port = '0', type = 'tcp'] = p.split('/');
    out.push({ ip: '', publicPort: 0, privatePort: Number(port), type });
  }
  return out;
}

/** The PORTS column (docker/cli's grouping into ranges). */
export function portsString(c: Container): string {
  return displayablePorts(listedPorts(c));
}

/** The State object of `inspect`. */
export function inspectState(c: Container): Record<string, unknown> {
  const status = effectiveStatus(c);
  const running = status === 'running' || status === 'paused';
  return {
    Status: status, Running: running, Paused: status === 'paused', Restarting: false, OOMKilled: false, Dead: status === 'dead',
    Pid: running ? c.state.pid : 0, ExitCode: c.state.status === 'running' && !running ? 137 : c.state.exitCode,
    Error: c.state.error, StartedAt: c.state.startedAt, FinishedAt: c.state.finishedAt,
  };
}

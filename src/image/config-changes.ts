/**
 * Applying Dockerfile instructions to an image's runtime config, as Docker
 * does for `import --change` and `commit --change` (and, for these
 * instructions, as a build does): CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
 * ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR, HEALTHCHECK.
 */
import { posix } from 'node:path';
import { SlipwayError } from '../errors.js';
import { parseInstructionLine, type Instruction } from '../dockerfile/index.js';
import type { ContainerConfig } from '../oci/types.js';

const COMMIT_COMMANDS = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

/** The shell a shell-form command runs under (the config's SHELL, else /bin/sh -c). */
function shellOf(c: ContainerConfig): string[] {
  return c.Shell && c.Shell.length > 0 ? c.Shell : ['/bin/sh', '-c'];
}

function setEnv(c: ContainerConfig, key: string, value: string): void {
  const env = [...(c.Env ?? [])];
  const i = env.findIndex((e) => e.split('=')[0] === key);
  if (i >= 0) env[i] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  c.Env = env;
}

/** Env as a lookup table, for expanding later instructions. */
export function envMap(c: ContainerConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of c.Env ?? []) {
    const i = e.indexOf('=');
    out[i < 0 ? e : e.slice(0, i)] = i < 0 ? '' : e.slice(i + 1);
  }
  return out;
}

/** Applies one typed instruction to `c` in place; returns false for instructions that do not change the config. */
export function applyInstruction(c: ContainerConfig, ins: Instruction): boolean {
  switch (ins.kind) {
    case 'cmd':
      c.Cmd = ins.form === 'exec' ? ins.command : [...shellOf(c), ...ins.command];
      if (ins.form === 'exec') c.ArgsEscaped = true;
      return true;
    case 'entrypoint':
      c.Entrypoint = ins.form === 'exec' || ins.command.length === 0 ? ins.command : [...shellOf(c), ...ins.command];
      c.Cmd = null;
      return true;
    case 'env':
      for (const p of ins.pairs) setEnv(c, p.key, p.value);
      return true;
    case 'label':
      c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(ins.pairs.map((p) => [p.key, p.value])) };
      return true;
    case 'expose':
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}), ...Object.fromEntries(ins.ports.map((p) => [p, {}])) };
      return true;
    case 'volume':
      c.Volumes = { ...(c.Volumes ?? {}), ...Object.fromEntries(ins.volumes.map((v) => [v, {}])) };
      return true;
    case 'user': c.User = ins.user; return true;
    case 'workdir': c.WorkingDir = posix.resolve(c.WorkingDir || '/', ins.path); return true;
    case 'stopsignal': c.StopSignal = ins.signal; return true;
    case 'onbuild': c.OnBuild = [...(c.OnBuild ?? []), ins.expression]; return true;
    case 'shell': c.Shell = ins.shell; return true;
    case 'healthcheck': {
      const h = ins.health;
      c.Healthcheck = {
        Test: h.test,
        ...(h.interval ? { Interval: h.interval } : {}), ...(h.timeout ? { Timeout: h.timeout } : {}),
        ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}), ...(h.startInterval ? { StartInterval: h.startInterval } : {}),
        ...(h.retries ? { Retries: h.retries } : {}),
      };
      return true;
    }
    default:
      return false;
  }
}

/** Applies `--change` lines (Dockerfile instructions) to a config, refusing what Docker refuses. */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const c: ContainerConfig = { ...config };
  for (const line of changes) {
    const word = line.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
    if (!COMMIT_COMMANDS.has(word)) {
      throw new SlipwayError('INVALID_ARGUMENT', `${word.toUpperCase()} is not a valid change command`);
    }
    applyInstruction(c, parseInstructionLine(line, { env: envMap(c) }));
  }
  // The daemon's commit/import dispatch leaves ArgsEscaped alone (inspect-imported.txt: `-c 'CMD ["/bin/sh"]'`, no ArgsEscaped).
  if (config.ArgsEscaped) c.ArgsEscaped = config.ArgsEscaped;
  else delete c.ArgsEscaped;
  return c;
}

/**
 * The OCI runtime spec (config.json) of a container, with Docker's
 * defaults: namespaces, capabilities, masked and read-only paths, the
 * /proc /dev /sys mounts, device rules, rlimits and cgroup resources.
 */

/** A mount of the OCI spec. */
export interface SpecMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** The parts of the OCI runtime spec slipway writes. */
export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: SpecMount[];
  linux: {
    namespaces: { type: string; path?: string }[];
    maskedPaths: string[];
    readonlyPaths: string[];
    resources: Record<string, unknown>;
    cgroupsPath?: string;
  };
}

/** Docker's default capabilities (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Docker's masked paths. */
export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** Docker's read-only paths. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The kernel filesystems every container gets, as Docker mounts them. */
export function defaultMounts(): SpecMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
  ];
}

/** Docker's device cgroup rules: deny all, allow mknod and the standard devices. */
export function defaultDeviceRules(): Record<string, unknown>[] {
  const allow = (type: string, major: number | undefined, minor: number | undefined, access: string) => ({
    allow: true, type, ...(major === undefined ? {} : { major }), ...(minor === undefined ? {} : { minor }), access,
  });
  return [
    { allow: false, access: 'rwm' },
    allow('c', undefined, undefined, 'm'), allow('b', undefined, undefined, 'm'),
    allow('c', 1, 3, 'rwm'), allow('c', 1, 5, 'rwm'), allow('c', 1, 7, 'rwm'), allow('c', 1, 8, 'rwm'), allow('c', 1, 9, 'rwm'),
    allow('c', 5, 0, 'rwm'), allow('c', 5, 1, 'rwm'), allow('c', 5, 2, 'rwm'), allow('c', 136, undefined, 'rwm'), allow('c', 10, 200, 'rwm'),
  ];
}

/**
 * Network modes: the host's namespace, or a new one with only loopback
 * (`none`; `private` is the same namespace, reachable through published
 * ports forwarded by the container's monitor).
 */
export type NetworkMode = 'host' | 'none' | 'private';

/** cgroup limits (`--memory`, `--cpus`, `--pids-limit`). */
export interface ResourceLimits {
  /** Bytes. */
  memory?: number;
  /** CPUs, fractional (1.5). */
  cpus?: number;
  pidsLimit?: number;
}

/** What a container runs and how. */
export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  terminal?: boolean;
}

/** Options of buildSpec. */
export interface BuildSpecOptions {
  process: ProcessSpec;
  /** The mounted rootfs (absolute). */
  rootfs: string;
  hostname: string;
  network: NetworkMode;
  /** Mounts added after the defaults (binds, tmpfs, /etc files). */
  mounts?: SpecMount[];
  resources?: ResourceLimits;
  /** cgroup path, relative to the runtime's own cgroup. */
  cgroupsPath?: string;
  /** RLIMIT_NOFILE soft and hard (default 1048576, what dockerd's containers get). */
  nofile?: number;
  readonlyRootfs?: boolean;
}

/** Docker's CFS period, and a quota for `cpus` CPUs. */
function cpuResources(cpus: number): Record<string, unknown> {
  const period = 100_000;
  return { period, quota: Math.round(cpus * period) };
}

/** The spec.linux.resources of a container. */
export function resourcesOf(limits: ResourceLimits | undefined): Record<string, unknown> {
  const r: Record<string, unknown> = { devices: defaultDeviceRules() };
  if (limits?.memory !== undefined) r.memory = { limit: limits.memory, swap: limits.memory * 2 };
  if (limits?.cpus !== undefined) r.cpu = cpuResources(limits.cpus);
  if (limits?.pidsLimit !== undefined) r.pids = { limit: limits.pidsLimit };
  return r;
}

/** The full OCI spec for one container. */
export function buildSpec(o: BuildSpecOptions): OciSpec {
  const namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (o.network !== 'host') namespaces.push({ type: 'network' });
  const nofile = o.nofile ?? 1048576;
  const caps = [...DEFAULT_CAPABILITIES];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: Boolean(o.process.terminal),
      user: o.process.user,
      args: o.process.args,
      env: o.process.env,
      cwd: o.process.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
      noNewPrivileges: false,
    },
    root: { path: o.rootfs, readonly: Boolean(o.readonlyRootfs) },
    hostname: o.hostname,
    mounts: [...defaultMounts(), ...(o.mounts ?? [])],
    linux: {
      namespaces,
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      resources: resourcesOf(o.resources),
      ...(o.cgroupsPath ? { cgroupsPath: o.cgroupsPath } : {}),
    },
  };
}

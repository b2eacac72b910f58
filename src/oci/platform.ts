/**
 * OCI platforms as containerd/platforms reads them: specifiers such as
 * `linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`, `arm64`, `linux`,
 * normalisation (aarch64 -> arm64, x86_64 -> amd64, armhf -> arm/v7 ...),
 * formatting, matching, and the host's own platform.
 */
import { SlipwayError } from '../errors.js';

/** An OCI image-spec platform. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
}

const SPECIFIER_RE = /^[A-Za-z0-9_.-]+$/;
const OS_RE = /^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$/;

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js',
  'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos']);
const KNOWN_ARCH = new Set(['386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le',
  'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64',
  's390', 's390x', 'sparc', 'sparc64', 'wasm']);

function invalidPlatform(message: string): SlipwayError {
  return new SlipwayError('INVALID_ARGUMENT', `${message}: invalid argument`);
}

/** containerd's normalizeOS: lower case, 'macos' -> 'darwin', '' -> the host OS. */
export function normalizeOS(os: string): string {
  if (os === '') return hostOS();
  const lower = os.toLowerCase();
  return lower === 'macos' ? 'darwin' : lower;
}

/** containerd's normalizeArch: canonical architecture and variant ('aarch64','8' -> 'arm64',''). */
export function normalizeArch(arch: string, variant: string): [string, string] {
  let a = arch.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386': a = '386'; v = ''; break;
    case 'x86_64': case 'x86-64': case 'amd64': a = 'amd64'; if (v === 'v1') v = ''; break;
    case 'aarch64': case 'arm64': a = 'arm64'; if (v === '8' || v === 'v8') v = ''; break;
    case 'armhf': a = 'arm'; v = 'v7'; break;
    case 'armel': a = 'arm'; v = 'v6'; break;
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (v === '5' || v === '6' || v === '8') v = `v${v}`;
      break;
  }
  return [a, v];
}

function build(os: string, architecture: string, variant: string, extra: Partial<Platform> = {}): Platform {
  const p: Platform = { os, architecture };
  if (variant !== '') p.variant = variant;
  if (extra.osVersion !== undefined && extra.osVersion !== '') p.osVersion = extra.osVersion;
  if (extra.osFeatures !== undefined && extra.osFeatures.length > 0) p.osFeatures = extra.osFeatures;
  return p;
}

function decodeOSOption(v: string, specifier: string): string {
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch (err) {
    throw new SlipwayError('INVALID_ARGUMENT', `${JSON.stringify(specifier)} has an invalid OS option ${JSON.stringify(v)}`, { cause: err });
  }
}

/**
 * containerd's platforms.Parse: `<os>[(<version>[+<feature>]*)]`, `<arch>`,
 * `<os>/<arch>` or `<os>/<arch>/<variant>`. A lone OS takes the host's
 * architecture; a lone architecture takes the host's OS. `linux/arm` and
 * `armhf` leave the v7 variant implicit; `linux/arm64/v8` keeps v8.
 * Throws INVALID_ARGUMENT with containerd's messages ("...: invalid argument").
 */
export function parsePlatform(specifier: string): Platform {
  const q = JSON.stringify(specifier);
  if (specifier.includes('*')) throw invalidPlatform(`${q}: wildcards not yet supported`);
  const parts = splitN(specifier, '/', 4);
  const osm = OS_RE.exec(parts[0] ?? '');
  if (osm === null) {
    throw invalidPlatform(`${JSON.stringify(parts[0] ?? '')} is an invalid OS component of ${q}: OSAndVersion specifier component must match ${JSON.stringify(OS_RE.source)}`);
  }
  for (const part of parts.slice(1)) {
    if (!SPECIFIER_RE.test(part)) {
      throw invalidPlatform(`${JSON.stringify(part)} is an invalid component of ${q}: platform specifier component must match ${JSON.stringify(SPECIFIER_RE.source)}`);
    }
  }
  const os = normalizeOS(osm[1] ?? '');
  const extra: Partial<Platform> = { osVersion: decodeOSOption(osm[2] ?? '', specifier) };
  if (osm[3] !== undefined && osm[3] !== '') {
    extra.osFeatures = osm[3].slice(1).split('+').map((f) => decodeOSOption(f, specifier));
  }
  if (parts.length === 1) {
    if (KNOWN_OS.has(os)) {
      const host = hostPlatform();
      return build(os, host.architecture, host.architecture === 'arm' && host.variant !== 'v7' ? host.variant ?? '' : '', extra);
    }
    const [arch, variant] = normalizeArch(parts[0] ?? '', '');
    if (KNOWN_ARCH.has(arch)) return build(hostOS(), arch, arch === 'arm' && variant === 'v7' ? '' : variant);
    throw invalidPlatform(`${q}: unknown operating system or architecture`);
  }
  if (parts.length === 2) {
    const [arch, variant] = normalizeArch(parts[1] ?? '', '');
    return build(os, arch, arch === 'arm' && variant === 'v7' ? '' : variant, extra);
  }
  if (parts.length === 3) {
    const [arch, variant] = normalizeArch(parts[1] ?? '', parts[2] ?? '');
    return build(os, arch, arch === 'arm64' && variant === '' ? 'v8' : variant, extra);
  }
  throw invalidPlatform(`${q}: cannot parse platform specifier`);
}

function splitN(s: string, sep: string, n: number): string[] {
  const all = s.split(sep);
  if (all.length <= n) return all;
  return [...all.slice(0, n - 1), all.slice(n - 1).join(sep)];
}

/** containerd's Normalize: canonical os, architecture and variant; features sorted and de-duplicated. */
export function normalizePlatform(p: Platform): Platform {
  const [arch, variant] = normalizeArch(p.architecture, p.variant ?? '');
  const extra: Partial<Platform> = {};
  if (p.osVersion !== undefined) extra.osVersion = p.osVersion;
  if (p.osFeatures !== undefined) extra.osFeatures = [...new Set(p.osFeatures)].sort();
  return build(normalizeOS(p.os), arch, variant, extra);
}

/** containerd's Format: 'linux/arm64/v8', 'linux/amd64'; 'unknown' when the OS is empty. */
export function formatPlatform(p: Platform): string {
  if (p.os === '') return 'unknown';
  return [p.os, p.architecture, p.variant ?? ''].filter((s) => s !== '').join('/');
}

/**
 * containerd's NewMatcher(want).Match(have): true when both normalise to the
 * same os, architecture and variant (so `linux/arm64` matches an image saying
 * aarch64 or arm64/v8, and `linux/arm` matches arm/v7). Features of `have`
 * must be a subset of those of `want`. OS versions are ignored (Linux rules).
 */
export function matchPlatform(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture || (w.variant ?? '') !== (h.variant ?? '')) return false;
  const wantFeatures = new Set(w.osFeatures ?? []);
  return (h.osFeatures ?? []).every((f) => wantFeatures.has(f));
}

/** The host OS in Go's GOOS spelling ('linux', 'darwin', 'windows' ...). */
export function hostOS(): string {
  switch (process.platform) {
    case 'win32': return 'windows';
    case 'sunos': return 'solaris';
    default: return process.platform;
  }
}

/**
 * The platform of this machine, normalised (arm64 without its implicit v8,
 * amd64 without v1): x64 -> amd64, ia32 -> 386, arm -> arm/v<arm_version>,
 * ppc64 (little-endian on Linux) -> ppc64le, mipsel -> mipsle.
 */
export function hostPlatform(): Platform {
  let arch: string = process.arch;
  let variant = '';
  switch (process.arch) {
    case 'x64': arch = 'amd64'; break;
    case 'ia32': arch = '386'; break;
    case 'ppc64': arch = 'ppc64le'; break;
    case 'mipsel': arch = 'mipsle'; break;
    case 'arm': {
      const vars = process.config.variables as unknown as Record<string, unknown>;
      const armVersion = vars['arm_version'];
      variant = typeof armVersion === 'string' || typeof armVersion === 'number' ? `v${armVersion}` : 'v7';
      break;
    }
  }
  return build(hostOS(), arch, variant);
}

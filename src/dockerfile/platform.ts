/**
 * Platforms: the host's, parsing `os/arch[/variant]`, and the automatic
 * platform build args (BUILDPLATFORM, TARGETARCH ...).
 */
import { UnpositionedError } from './errors.js';
import type { Platform } from './types.js';

const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips64el: 'mips64le',
};

/** The platform of this machine (Node's process.arch mapped to OCI names). */
export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  return architecture === 'arm' ? { os: 'linux', architecture, variant: 'v7' } : { os: 'linux', architecture };
}

/** Formats `os/arch[/variant]`. */
export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/**
 * Parses `os[/arch[/variant]]` with containerd's normalisation (x86_64 →
 * amd64, aarch64 → arm64, arm → arm/v7, arm64/v8 → arm64). Throws
 * UnpositionedError on a malformed value.
 */
export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new UnpositionedError(`failed to parse platform ${s}: "${s}": unknown operating system or architecture: invalid argument`);
  }
  const os = parts[0] === 'macos' ? 'darwin' : (parts[0] ?? 'linux');
  let arch = parts[1] ?? hostPlatform().architecture;
  let variant = parts[2];
  if (arch === 'x86_64' || arch === 'x86-64') arch = 'amd64';
  if (arch === 'aarch64') arch = 'arm64';
  if (arch === 'i386') arch = '386';
  if (arch === 'armhf') [arch, variant] = ['arm', 'v7'];
  if (arch === 'armel') [arch, variant] = ['arm', 'v6'];
  if (arch === 'arm64' && (variant === 'v8' || variant === '8')) variant = undefined;
  if (arch === 'arm' && variant === undefined) variant = 'v7';
  if (arch === 'arm' && variant !== undefined && /^\d$/.test(variant)) variant = 'v' + variant;
  if (arch === 'amd64' && variant === 'v1') variant = undefined;
  return variant === undefined ? { os, architecture: arch } : { os, architecture: arch, variant };
}

/** The automatic platform args BuildKit defines in the global scope. */
export function platformArgs(build: Platform, target: Platform): Record<string, string> {
  return {
    BUILDPLATFORM: formatPlatform(build),
    BUILDOS: build.os,
    BUILDARCH: build.architecture,
    BUILDVARIANT: build.variant ?? '',
    TARGETPLATFORM: formatPlatform(target),
    TARGETOS: target.os,
    TARGETARCH: target.architecture,
    TARGETVARIANT: target.variant ?? '',
  };
}

/** The predefined proxy args: usable as --build-arg without an ARG, never persisted. */
export const PROXY_ARGS: readonly string[] = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
];

/** The PATH BuildKit puts in a Linux image config that has none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

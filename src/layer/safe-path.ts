/**
 * Path rules for layer tars, shared by applyLayer and scanTar.
 *
 * - Entry names are cleaned lexically ("./a//b/../c" -> "a/c"). A name that
 *   is absolute, or whose ".." climbs above the root, is refused.
 * - Hard link targets follow the same rules (relative to the archive root).
 * - Relative symlink targets are resolved lexically from the link's
 *   directory and refused when they climb above the root (Docker's rule in
 *   pkg/archive createTarFile). Absolute symlink targets are allowed: they
 *   are only meaningful inside the container's root and are never followed
 *   by us.
 * - Whiteout names must name a real child (".wh." alone, ".wh..", ".wh.." are refused).
 */
import { SlipwayError } from '../errors.js';
import type { TarHeader } from './tar-format.js';

/** Prefix of whiteout files (OCI image-spec layer.md). */
export const WHITEOUT_PREFIX = '.wh.';
/** Name of the opaque-directory marker. */
export const OPAQUE_MARKER = '.wh..wh..opq';
/** Prefix of AUFS metadata entries, which are skipped. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';

/** Build the standard refusal error. */
export function refuse(label: string, name: string, msg: string): SlipwayError {
  return new SlipwayError('INVALID_ARCHIVE', `${label}: entry "${name}": ${msg}`);
}

/**
 * Clean `name` into path components under the root; [] is the root itself.
 * Throws when the name is absolute or escapes.
 */
export function cleanEntryPath(name: string, label: string, what = 'path', entry = name): string[] {
  if (name.startsWith('/')) throw refuse(label, entry, `absolute ${what} is not allowed`);
  if (name.includes('\0')) throw refuse(label, entry, `${what} contains a NUL byte`);
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw refuse(label, entry, `${what} escapes the target`);
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out;
}

/** What a whiteout entry asks for, if it is one. */
export type WhiteoutKind = { kind: 'opaque' } | { kind: 'remove'; name: string } | { kind: 'meta' } | null;

/** Classify a cleaned entry's last component as a whiteout. */
export function whiteoutOf(parts: readonly string[], label: string, name: string): WhiteoutKind {
  const base = parts[parts.length - 1];
  if (base === undefined || !base.startsWith(WHITEOUT_PREFIX)) return null;
  if (base === OPAQUE_MARKER) return { kind: 'opaque' };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') throw refuse(label, name, 'invalid whiteout name');
  return { kind: 'remove', name: target };
}

/**
 * Check the link target of a header against the rules above; returns the
 * cleaned hard link target components (null for other types).
 */
export function checkLinkTarget(h: TarHeader, parts: readonly string[], label: string): string[] | null {
  if (h.type === 'link') {
    if (h.linkname === '') throw refuse(label, h.name, 'hard link without a target');
    if (h.linkname.startsWith('/')) throw refuse(label, h.name, `hard link target "${h.linkname}" is an absolute path`);
    const target = cleanEntryPath(h.linkname, label, 'hard link target', h.name);
    if (target.length === 0) throw refuse(label, h.name, 'hard link to the root directory');
    return target;
  }
  if (h.type === 'symlink' && !h.linkname.startsWith('/')) {
    let depth = parts.length - 1;
    for (const part of h.linkname.split('/')) {
      if (part === '' || part === '.') continue;
      depth += part === '..' ? -1 : 1;
      if (depth < 0) throw refuse(label, h.name, `symlink target "${h.linkname}" escapes the target`);
    }
  }
  return null;
}

/**
 * Tracks the symlinks an archive creates so that a later entry written
 * through one of them ("a -> /" then "a/x") is refused without touching
 * the disk (scanTar). applyLayer checks the real tree instead.
 */
export class SymlinkTracker {
  private readonly links = new Set<string>();

  /** Throw when any parent of `parts` is a symlink created earlier in the archive. */
  checkParents(parts: readonly string[], label: string, name: string, count = parts.length - 1): void {
    if (this.links.size === 0) return;
    let p = '';
    for (let i = 0; i < count; i++) {
      p = i === 0 ? (parts[0] as string) : `${p}/${parts[i] as string}`;
      if (this.links.has(p)) throw refuse(label, name, `path goes through the symlink "${p}"`);
    }
  }

  /** Record the entry at `parts` (a symlink, or something that replaces one). */
  record(parts: readonly string[], isSymlink: boolean): void {
    const p = parts.join('/');
    if (isSymlink) this.links.add(p);
    else if (this.links.size > 0) this.links.delete(p);
  }

  /** Forget `parts` and everything under it (a whiteout removed it). */
  remove(parts: readonly string[]): void {
    const p = parts.join('/');
    for (const l of this.links) if (l === p || l.startsWith(`${p}/`)) this.links.delete(l);
  }
}

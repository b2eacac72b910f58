/** Digests: parsing, validation and hashing helpers (sha256 only, as Docker). */
import { createHash, type Hash } from 'node:crypto';
import { SlipwayError } from '../errors.js';
import { sha256Hex } from './sha256.js';

/** A digest string of the form `sha256:<64 lowercase hex>`. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** True when `s` is a well-formed sha256 digest. */
export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

/** Returns `s` as a Digest or throws INVALID_ARGUMENT naming `what`. */
export function parseDigest(s: string, what = 'digest'): Digest {
  if (!isDigest(s)) {
    const algo = s.includes(':') ? s.slice(0, s.indexOf(':')) : '';
    const why = algo && algo !== 'sha256' ? `unsupported digest algorithm ${algo}` : 'invalid checksum digest format';
    throw new SlipwayError('INVALID_ARGUMENT', `${what} "${s}": ${why}`);
  }
  return s;
}

/** The 64-hex part of a digest. */
export function digestHex(d: Digest): string {
  return d.slice(7);
}

/** sha256 digest of an in-memory buffer or string (a UTF-8 string's bytes). */
export function digestOf(data: Buffer | string): Digest {
  return `sha256:${sha256Hex(data)}`;
}

/** A new incremental sha256 hasher. */
export function newHasher(): Hash {
  return createHash('sha256');
}

/** Docker's short image ID: the first 12 hex characters of the digest. */
export function shortId(d: string): string {
  return (d.startsWith('sha256:') ? d.slice(7) : d).slice(0, 12);
}

/**
 * Chain IDs of a list of diff IDs, as the image-spec defines them:
 * ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const id of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? id : digestOf(`${prev} ${id}`));
  }
  return out;
}

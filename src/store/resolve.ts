/**
 * Finding an image the way Docker's daemon does (GetImage): a full ID or
 * `sha256:` digest of the config first, then a name (with `latest` added when
 * no tag is given) or a `name@digest` repo digest, then a unique short-ID
 * prefix.
 */
import { SlipwayError } from '../errors.js';
import {
  familiarString, fullName, isImageIdPrefix, parseAnyReference, referenceString, withDefaultTag, type Reference,
} from '../oci/reference.js';
import type { ImageRecord } from './records.js';

/** An image found for a user's word, and how it was named. */
export interface Resolved {
  record: ImageRecord;
  /** The full name (with tag) or `name@digest` the word meant, when it was a reference. */
  name?: string;
}

/** The full reference string a user-typed name stands for ('nginx' -> 'docker.io/library/nginx:latest'). */
export function normalizeName(ref: Reference): string {
  return referenceString(withDefaultTag(ref));
}

/** Finds an image; returns undefined when nothing matches. Throws INVALID_ARGUMENT for a malformed word. */
export function findImage(records: readonly ImageRecord[], word: string): Resolved | undefined {
  const any = parseAnyReference(word);
  if (any.kind === 'id') {
    const record = records.find((r) => r.id === any.id);
    return record && { record };
  }
  const ref = any.ref;
  if (ref.digest !== undefined) {
    const name = `${fullName(ref)}@${ref.digest}`;
    const record = records.find((r) => r.repoDigests.includes(name) || (r.manifest.digest === ref.digest && r.names.some((n) => n.startsWith(`${fullName(ref)}:`))));
    if (record) return { record, name };
  } else {
    const name = normalizeName(ref);
    const record = records.find((r) => r.names.includes(name));
    if (record) return { record, name };
  }
  if (isImageIdPrefix(word) && !word.includes(':')) {
    const matches = records.filter((r) => r.id.startsWith(`sha256:${word}`));
    if (matches.length === 1 && matches[0]) return { record: matches[0] };
  }
  return undefined;
}

/** The "No such image" text Docker uses for a word. */
export function noSuchImage(word: string): SlipwayError {
  let shown = word;
  try {
    const any = parseAnyReference(word);
    if (any.kind === 'reference') shown = familiarString(withDefaultTag(any.ref));
  } catch {
    // keep the word as typed
  }
  return new SlipwayError('NOT_FOUND', `No such image: ${shown}`);
}

/** Finds an image or throws NOT_FOUND "No such image: ...". */
export function resolveImage(records: readonly ImageRecord[], word: string): Resolved {
  const found = findImage(records, word);
  if (!found) throw noSuchImage(word);
  return found;
}

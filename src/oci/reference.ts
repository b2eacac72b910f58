/**
 * Image references as Docker reads them: the grammar of distribution/reference
 * (`name[:tag][@digest]`), Docker Hub normalisation (`nginx` ->
 * `docker.io/library/nginx`), the familiar forms Docker prints, the
 * image-ID shortcut of ParseAnyReference, and `--filter reference=PATTERN`.
 */
import { SlipwayError } from '../errors.js';

/** A parsed, normalised reference. `domain` is '' only for raw (un-normalised) parses. */
export interface Reference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

/** What parseAnyReference returns: an image ID or a named reference. */
export type AnyReference =
  | { kind: 'id'; id: string }
  | { kind: 'reference'; ref: Reference };

/** Docker Hub's canonical domain in normalised names. */
export const DEFAULT_DOMAIN = 'docker.io';
/** The host that actually serves Docker Hub's registry API. */
export const DOCKER_HUB_REGISTRY_HOST = 'registry-1.docker.io';
/** The longest repository path distribution accepts. */
export const REPOSITORY_NAME_MAX = 255;

const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';

// The grammar of distribution/reference regexp.go, as JavaScript regexps.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';

const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const ANCHORED_TAG_RE = new RegExp(`^${TAG}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const DIGEST_ANCHORED_RE = new RegExp(`^${DIGEST}$`);

/** Hex lengths of the digest algorithms go-digest registers (as Docker builds it). */
const DIGEST_ALGORITHMS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function invalid(message: string): SlipwayError {
  return new SlipwayError('INVALID_ARGUMENT', message);
}

/**
 * Validates a digest string as go-digest's Parse does and returns it.
 * Throws INVALID_ARGUMENT with go-digest's messages: `invalid checksum digest
 * format`, `invalid checksum digest length`, `unsupported digest algorithm`.
 */
export function validateDigest(digest: string): string {
  const i = digest.indexOf(':');
  if (i <= 0 || i + 1 === digest.length) throw invalid('invalid checksum digest format');
  const algorithm = digest.slice(0, i);
  const encoded = digest.slice(i + 1);
  const size = DIGEST_ALGORITHMS[algorithm];
  if (size === undefined) {
    if (!DIGEST_ANCHORED_RE.test(digest)) throw invalid('invalid checksum digest format');
    throw invalid('unsupported digest algorithm');
  }
  if (encoded.length !== size) throw invalid('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(encoded)) throw invalid('invalid checksum digest format');
  return digest;
}

/**
 * Parses `s` exactly as distribution's `reference.Parse`: no Docker Hub
 * normalisation, so `domain` is '' when the name has none ('ubuntu',
 * 'test_com/foo'). Throws INVALID_ARGUMENT with distribution's messages.
 */
export function parseRawReference(s: string): Reference {
  if (s === '') throw invalid('repository name must have at least one component');
  const m = REFERENCE_RE.exec(s);
  if (m === null) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE_RE.test(lower)) throw invalid('repository name must be lowercase');
    throw invalid('invalid reference format');
  }
  const name = m[1] ?? '';
  const nm = ANCHORED_NAME_RE.exec(name);
  const domain = nm?.[1] ?? '';
  const path = nm?.[2] ?? name;
  if (path.length > REPOSITORY_NAME_MAX) {
    throw invalid(`repository name must not be more than ${REPOSITORY_NAME_MAX} characters`);
  }
  const ref: Reference = { domain, path };
  if (m[2] !== undefined && m[2] !== '') ref.tag = m[2];
  if (m[3] !== undefined && m[3] !== '') ref.digest = validateDigest(m[3]);
  return ref;
}

/** distribution's splitDockerDomain: which part of `name` is a registry host. */
function splitDockerDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL_PREFIX + name];
  const maybeDomain = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let domain: string;
  let remote: string;
  if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
    [domain, remote] = [DEFAULT_DOMAIN, rest];
  } else if (maybeDomain === 'localhost' || /[.:]/.test(maybeDomain) || maybeDomain.toLowerCase() !== maybeDomain) {
    [domain, remote] = [maybeDomain, rest];
  } else {
    [domain, remote] = [DEFAULT_DOMAIN, name];
  }
  if (domain === DEFAULT_DOMAIN && !remote.includes('/')) remote = OFFICIAL_PREFIX + remote;
  return [domain, remote];
}

/**
 * Parses a user-typed image reference the way `docker` does
 * (ParseNormalizedNamed): 'nginx' -> { domain: 'docker.io', path:
 * 'library/nginx' }. No default tag is added (see withDefaultTag).
 * Throws INVALID_ARGUMENT, e.g. `invalid reference format: repository name
 * (library/Nginx) must be lowercase`, `invalid reference format`, or
 * `invalid repository name (<64 hex>), cannot specify 64-byte hexadecimal strings`.
 */
export function parseReference(s: string): Reference {
  if (IDENTIFIER_RE.test(s)) {
    throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDockerDomain(s);
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw invalid(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  return parseRawReference(`${domain}/${remainder}`);
}

/**
 * ParseAnyReference: a bare 64-hex string or a valid digest
 * ('sha256:<64 hex>') is an image ID, returned as `sha256:<hex>`; anything
 * else is parsed with parseReference (and may throw as it does).
 */
export function parseAnyReference(s: string): AnyReference {
  if (IDENTIFIER_RE.test(s)) return { kind: 'id', id: `sha256:${s}` };
  if (s.includes(':') && DIGEST_ANCHORED_RE.test(s)) {
    try {
      return { kind: 'id', id: validateDigest(s) };
    } catch {
      // not a usable digest: fall through to a name, as Docker does
    }
  }
  return { kind: 'reference', ref: parseReference(s) };
}

/** True for a full image ID: 64 lowercase hex, with or without `sha256:`. */
export function isImageId(s: string): boolean {
  return IDENTIFIER_RE.test(s.startsWith('sha256:') ? s.slice(7) : s);
}

/** True for a (possibly truncated) image ID: 1..64 lowercase hex, with or without `sha256:`. */
export function isImageIdPrefix(s: string): boolean {
  return /^[a-f0-9]{1,64}$/.test(s.startsWith('sha256:') ? s.slice(7) : s);
}

/** The full name without tag or digest: 'docker.io/library/nginx'. */
export function fullName(ref: Reference): string {
  return ref.domain === '' ? ref.path : `${ref.domain}/${ref.path}`;
}

/** The full reference string: 'docker.io/library/nginx:latest@sha256:...'. */
export function referenceString(ref: Reference): string {
  return fullName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** The name as Docker shows it: 'nginx', 'user/app', 'localhost:5000/app', 'library/a/b'. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  if (ref.path.startsWith(OFFICIAL_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** The reference as Docker shows it: 'nginx:latest', 'nginx@sha256:...', 'nginx:1@sha256:...'. */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** TagNameOnly: adds the `latest` tag when the reference has neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return { ...ref, tag: DEFAULT_TAG };
}

/**
 * ParseDockerRef: normalises, then keeps only the digest when both tag and
 * digest are present, and adds `latest` when neither is.
 */
export function parseDockerRef(s: string): Reference {
  const ref = parseReference(s);
  if (ref.tag !== undefined && ref.digest !== undefined) return { domain: ref.domain, path: ref.path, digest: ref.digest };
  return withDefaultTag(ref);
}

/**
 * Returns a copy of `ref` with tag `tag` (validated as distribution's WithTag:
 * throws INVALID_ARGUMENT `invalid tag format`). A digest is kept.
 */
export function withTag(ref: Reference, tag: string): Reference {
  if (!ANCHORED_TAG_RE.test(tag)) throw invalid('invalid tag format');
  return { ...ref, tag };
}

/** The host to talk to for the registry API: docker.io -> registry-1.docker.io, others unchanged. */
export function registryHost(ref: Reference): string {
  return ref.domain === DEFAULT_DOMAIN ? DOCKER_HUB_REGISTRY_HOST : ref.domain;
}

/**
 * Docker's `--filter reference=PATTERN` test (distribution FamiliarMatch):
 * Go path.Match of `pattern` against familiarString(ref) ('nginx:latest'),
 * then against familiarName(ref) ('nginx'). Throws INVALID_ARGUMENT
 * `syntax error in pattern` for a malformed pattern, as Docker does.
 */
export function matchReferencePattern(ref: Reference, pattern: string): boolean {
  return goPathMatch(pattern, familiarString(ref)) || goPathMatch(pattern, familiarName(ref));
}

// ---- Go's path.Match -----------------------------------------------------

const BAD_PATTERN = 'syntax error in pattern';

/**
 * Go's path.Match: `*` any run of non-'/' characters, `?` one non-'/'
 * character, `[...]` classes with ranges and `^` negation, `\` escapes.
 * Throws INVALID_ARGUMENT `syntax error in pattern` when the pattern is malformed.
 */
export function goPathMatch(pattern: string, name: string): boolean {
  let pat = Array.from(pattern);
  let rest = Array.from(name);
  outer: while (pat.length > 0) {
    const [star, chunk, after] = scanChunk(pat);
    pat = after;
    if (star && chunk.length === 0) return !rest.includes('/');
    const t = matchChunk(chunk, rest);
    if (t !== null && (t.length === 0 || pat.length > 0)) {
      rest = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < rest.length && rest[i] !== '/'; i++) {
        const t2 = matchChunk(chunk, rest.slice(i + 1));
        if (t2 !== null) {
          if (pat.length === 0 && t2.length > 0) continue;
          rest = t2;
          continue outer;
        }
      }
    }
    // Like Go, report a malformed remainder of the pattern even on a mismatch.
    while (pat.length > 0) {
      const [, c, a] = scanChunk(pat);
      pat = a;
      matchChunk(c, []);
    }
    return false;
  }
  return rest.length === 0;
}

function scanChunk(pattern: string[]): [boolean, string[], string[]] {
  let star = false;
  let p = pattern;
  while (p.length > 0 && p[0] === '*') {
    p = p.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case '\\': if (i + 1 < p.length) i++; break;
      case '[': inRange = true; break;
      case ']': inRange = false; break;
      case '*': if (!inRange) break scan; break;
    }
  }
  return [star, p.slice(0, i), p.slice(i)];
}

/** Matches one chunk at the start of `s`; returns the rest, or null on mismatch. Throws on a bad chunk. */
function matchChunk(chunkIn: string[], sIn: string[]): string[] | null {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0];
    if (c === '[') {
      let r = '';
      if (!failed) { r = s[0] ?? ''; s = s.slice(1); }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk[0] === '^') { negated = true; chunk = chunk.slice(1); }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) { chunk = chunk.slice(1); break; }
        const [lo, afterLo] = getEsc(chunk);
        chunk = afterLo;
        let hi = lo;
        if (chunk[0] === '-') { [hi, chunk] = getEsc(chunk.slice(1)); }
        if (!failed && cp(lo) <= cp(r) && cp(r) <= cp(hi)) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === '?') {
      if (!failed) { if (s[0] === '/') failed = true; s = s.slice(1); }
      chunk = chunk.slice(1);
    } else {
      if (c === '\\') {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw invalid(BAD_PATTERN);
      }
      if (!failed) { if (chunk[0] !== s[0]) failed = true; s = s.slice(1); }
      chunk = chunk.slice(1);
    }
  }
  return failed ? null : s;
}

function getEsc(chunkIn: string[]): [string, string[]] {
  let chunk = chunkIn;
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw invalid(BAD_PATTERN);
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw invalid(BAD_PATTERN);
  }
  const r = chunk[0] ?? '';
  const next = chunk.slice(1);
  if (next.length === 0) throw invalid(BAD_PATTERN);
  return [r, next];
}

function cp(ch: string): number {
  return ch.codePointAt(0) ?? -1;
}

/**
 * Interprets what an archive held: Docker's `manifest.json` (any Docker
 * version, with or without the OCI layout inside) or, failing that, an OCI
 * layout's `index.json`. Produces one plan per image: its names, its config
 * and its layer files in order.
 */
import { posix } from 'node:path';
import { SlipwayError } from '../errors.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { isIndexType } from '../oci/media-types.js';
import { hostPlatform, matchPlatform } from '../oci/platform.js';
import { parseReference, referenceString, withDefaultTag } from '../oci/reference.js';
import type { Descriptor, ImageConfig, ImageIndex, Manifest, Platform } from '../oci/types.js';
import { memberName, type ArchiveContents, type ArchiveFile } from './read-archive.js';

/** One image to load. */
export interface ImagePlan {
  /** Full references ('docker.io/library/busybox:latest'). */
  names: string[];
  config: ArchiveFile;
  configDoc: ImageConfig;
  layers: ArchiveFile[];
}

interface DockerManifestEntry {
  Config?: string;
  RepoTags?: string[] | null;
  Layers?: string[];
}

/** Builds the load plans, or throws INVALID_ARCHIVE naming what is wrong. */
export function planImages(contents: ArchiveContents, label: string): ImagePlan[] {
  const lookup = (path: string, what: string): ArchiveFile => {
    const f = resolveMember(contents, path);
    if (!f) throw new SlipwayError('INVALID_ARCHIVE', `${label}: ${what} "${path}" is not in the archive`);
    return f;
  };
  const manifestJson = contents.files.get('manifest.json');
  if (manifestJson) return fromDockerManifest(parseDoc<DockerManifestEntry[]>(manifestJson, label), lookup, label);
  const index = contents.files.get('index.json');
  if (index) return fromOciIndex(parseDoc<ImageIndex>(index, label), lookup, label);
  throw new SlipwayError('INVALID_ARCHIVE', `${label}: neither manifest.json nor index.json found: not a docker-archive or OCI archive`);
}

function resolveMember(contents: ArchiveContents, path: string): ArchiveFile | undefined {
  let p = memberName(path);
  for (let hops = 0; hops < 8; hops++) {
    const f = contents.files.get(p);
    if (f) return f;
    const target = contents.links.get(p);
    if (target === undefined) return undefined;
    p = memberName(posix.normalize(posix.join(posix.dirname(p), target)));
  }
  return undefined;
}

function parseDoc<T>(file: ArchiveFile, label: string): T {
  if (!file.bytes) throw new SlipwayError('INVALID_ARCHIVE', `${label}: ${file.path} is too large to be a document`);
  try {
    return JSON.parse(file.bytes.toString('utf8')) as T;
  } catch (err) {
    throw new SlipwayError('INVALID_ARCHIVE', `${label}: ${file.path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function fullNames(tags: readonly string[], label: string): string[] {
  return tags.map((t) => {
    try {
      return referenceString(withDefaultTag(parseReference(t)));
    } catch (err) {
      throw new SlipwayError('INVALID_ARCHIVE', `${label}: invalid tag "${t}" in manifest.json: ${(err as Error).message}`, { cause: err });
    }
  });
}

type Lookup = (path: string, what: string) => ArchiveFile;

function fromDockerManifest(entries: DockerManifestEntry[], lookup: Lookup, label: string): ImagePlan[] {
  if (!Array.isArray(entries)) throw new SlipwayError('INVALID_ARCHIVE', `${label}: manifest.json is not a list of images`);
  return entries.map((e) => {
    if (typeof e.Config !== 'string' || !Array.isArray(e.Layers)) {
      throw new SlipwayError('INVALID_ARCHIVE', `${label}: manifest.json entry without Config or Layers`);
    }
    const config = lookup(e.Config, 'config');
    const hex = /([a-f0-9]{64})(\.json)?$/.exec(e.Config)?.[1];
    if (hex && config.blob.digest !== `sha256:${hex}`) {
      throw new SlipwayError('DIGEST_MISMATCH', `${label}: config ${e.Config} has digest ${config.blob.digest}, not the one its name promises`);
    }
    return {
      names: fullNames(e.RepoTags ?? [], label), config, configDoc: parseDoc<ImageConfig>(config, label),
      layers: e.Layers.map((l) => lookup(l, 'layer')),
    };
  });
}

function blobPath(d: Descriptor, label: string): string {
  if (!isDigest(d.digest)) throw new SlipwayError('INVALID_ARCHIVE', `${label}: invalid digest "${String(d.digest)}" in a descriptor`);
  return `blobs/sha256/${(d.digest as Digest).slice(7)}`;
}

function checkSize(f: ArchiveFile, d: Descriptor, label: string): ArchiveFile {
  if (f.blob.size !== d.size) {
    throw new SlipwayError('DIGEST_MISMATCH', `${label}: ${f.path} is ${f.blob.size} bytes, but its descriptor says ${d.size}`);
  }
  return f;
}

function fromOciIndex(index: ImageIndex, lookup: Lookup, label: string): ImagePlan[] {
  if (!Array.isArray(index.manifests)) throw new SlipwayError('INVALID_ARCHIVE', `${label}: index.json has no manifests`);
  const plans: ImagePlan[] = [];
  for (const desc of index.manifests) {
    const manifestDesc = pickManifest(desc, lookup, label);
    const mfile = checkSize(lookup(blobPath(manifestDesc, label), 'manifest'), manifestDesc, label);
    const m = parseDoc<Manifest>(mfile, label);
    const config = checkSize(lookup(blobPath(m.config, label), 'config'), m.config, label);
    const name = desc.annotations?.['io.containerd.image.name'] ?? desc.annotations?.['org.opencontainers.image.ref.name'];
    plans.push({
      names: name !== undefined && /[/:]/.test(name) ? fullNames([name], label) : [],
      config, configDoc: parseDoc<ImageConfig>(config, label),
      layers: m.layers.map((l) => checkSize(lookup(blobPath(l, label), 'layer'), l, label)),
    });
  }
  return plans;
}

function pickManifest(desc: Descriptor, lookup: Lookup, label: string): Descriptor {
  let d = desc;
  for (let depth = 0; isIndexType(d.mediaType); depth++) {
    if (depth > 4) throw new SlipwayError('INVALID_ARCHIVE', `${label}: indexes nested too deeply`);
    const idx = parseDoc<ImageIndex>(checkSize(lookup(blobPath(d, label), 'index'), d, label), label);
    const host = hostPlatform();
    const next = idx.manifests.find((m) => m.platform && matchPlatform(host, toPlatform(m.platform))) ?? idx.manifests[0];
    if (!next) throw new SlipwayError('INVALID_ARCHIVE', `${label}: an index in the archive lists no manifests`);
    d = next;
  }
  return d;
}

function toPlatform(p: Platform): { os: string; architecture: string; variant?: string } {
  return { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) };
}

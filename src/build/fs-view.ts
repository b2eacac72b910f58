/**
 * A read-only view of an image's filesystem straight from its layer tars,
 * with OCI whiteouts applied, for the few lookups a build makes without
 * unpacking (does WORKDIR exist, what do /etc/passwd and /etc/group say).
 * Each layer's headers are read once per view.
 */
import type { Readable } from 'node:stream';
// Straight from the modules, not the layer barrel: a cached build then never loads the tar writer (and node:stream).
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from '../layer/safe-path.js';
import type { TarHeader } from '../layer/tar-format.js';
import { readTar } from '../layer/tar-reader.js';
import type { Digest } from '../oci/digest.js';

/** Opens a layer blob for reading. */
export type OpenLayer = (digest: Digest) => Readable;

/** The entries and whiteouts of one layer. */
export interface LayerIndex {
  entries: Map<string, TarHeader>;
  /** Paths deleted by whiteouts in this layer. */
  removed: Set<string>;
  /** Directories made opaque in this layer. */
  opaque: Set<string>;
}

/** Normalises a path to the form used as a key: no leading or trailing '/', '' for the root. */
export function keyOf(path: string): string {
  return path.split('/').filter((p) => p !== '' && p !== '.').join('/');
}

function parentsOf(key: string): string[] {
  const parts = key.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** Layer indexes shared by the views of one build (each layer's headers are read once). */
export type LayerIndexCache = Map<Digest, Promise<LayerIndex>>;

/** The merged filesystem of a list of layers (bottom first). */
export class LayerFs {
  private ready: Map<Digest, LayerIndex> | undefined;

  constructor(private readonly layers: readonly Digest[], private readonly open: OpenLayer, private readonly indexes: LayerIndexCache = new Map()) {}

  private index(digest: Digest): Promise<LayerIndex> {
    let p = this.indexes.get(digest);
    if (!p) {
      p = buildIndex(this.open(digest));
      this.indexes.set(digest, p);
    }
    return p;
  }

  /** Reads every layer's index, after which lookupSync works. */
  async prepare(): Promise<this> {
    const ready = new Map<Digest, LayerIndex>();
    const indexes = await Promise.all(this.layers.map((d) => this.index(d))); // the layers are read concurrently
    this.layers.forEach((d, i) => ready.set(d, indexes[i] as LayerIndex));
    this.ready = ready;
    return this;
  }

  /** The header of `path` in the merged view, or undefined when absent. */
  async lookup(path: string): Promise<TarHeader | undefined> {
    await this.prepare();
    return this.lookupSync(path);
  }

  /** lookup, once prepare() has run. */
  lookupSync(path: string): TarHeader | undefined {
    return this.locate(keyOf(path))?.header;
  }

  private locate(key: string): { layer: Digest; header: TarHeader } | undefined {
    if (!this.ready) throw new Error('LayerFs used before prepare()');
    if (key === '') return { layer: this.layers[0] as Digest, header: rootHeader() };
    const parents = parentsOf(key);
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const digest = this.layers[i] as Digest;
      const idx = this.ready.get(digest) as LayerIndex;
      const header = idx.entries.get(key);
      if (header) return { layer: digest, header };
      if (idx.removed.has(key) || parents.some((p) => idx.removed.has(p) || idx.opaque.has(p))) return undefined;
    }
    return undefined;
  }

  /** The content of a regular file (at most `maxBytes`), or undefined when absent or not a file. */
  async readFile(path: string, maxBytes = 4 << 20): Promise<Buffer | undefined> {
    const key = keyOf(path);
    await this.prepare();
    const found = this.locate(key);
    if (!found || found.header.type !== 'file' || found.header.size > maxBytes) return undefined;
    for await (const entry of readTar(this.open(found.layer))) {
      if (keyOf(entry.header.name) === key) return entry.buffer();
    }
    return undefined;
  }
}

function rootHeader(): TarHeader {
  return {
    name: './', type: 'directory', typeflag: '5', size: 0, mode: 0o755, uid: 0, gid: 0, uname: '', gname: '',
    mtime: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: {}, pax: {}, format: 'pax',
  };
}

async function buildIndex(input: Readable): Promise<LayerIndex> {
  const idx: LayerIndex = { entries: new Map(), removed: new Set(), opaque: new Set() };
  for await (const entry of readTar(input)) {
    const key = keyOf(entry.header.name);
    const slash = key.lastIndexOf('/');
    const base = key.slice(slash + 1);
    const dir = slash < 0 ? '' : key.slice(0, slash);
    if (base === OPAQUE_MARKER) idx.opaque.add(dir);
    else if (base.startsWith(WHITEOUT_PREFIX)) idx.removed.add((dir ? `${dir}/` : '') + base.slice(WHITEOUT_PREFIX.length));
    else idx.entries.set(key, entry.header);
  }
  return idx;
}

/**
 * `commit`: a container's writable layer (its overlay upper directory, as
 * Docker's overlay2 diff: whiteouts, opaque directories) becomes one layer
 * on top of the image's layers; the config is the container's config with
 * `-c` changes applied, as Docker's daemon commits it. A running container
 * is paused (cgroup freezer, `runc pause`) while its layer is read.
 */
import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError } from '../errors.js';
import { applyChanges } from '../image/config-changes.js';
import { createTarWriter, overlayDiff } from '../layer/index.js';
import type { Digest } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import type { ImageConfig, Manifest } from '../oci/types.js';
import type { ImageStore } from '../store/image-store.js';
import { Annotation } from '../store/refs.js';
import { containerDir, type Container } from './records.js';
import { stateRootOf } from './rootfs.js';

/** Options of commitContainer. */
export interface CommitOptions {
  author?: string;
  message?: string;
  changes?: string[];
  /** Pause a running container while reading its layer (default true). */
  pause?: boolean;
  /** Full references to tag the image with. */
  names: string[];
  running: boolean;
  now?: Date;
}

const EMPTY_LAYER = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';
const STUBS = new Set(['etc/hosts', 'etc/hostname', 'etc/resolv.conf']);

function runtime(c: Container, root: string, verb: 'pause' | 'resume'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(c.record.runtime.path, ['--root', stateRootOf(root, c.record.runtime.name), verb, c.record.id], (err, _o, stderr) => {
      if (err) reject(new SlipwayError('RUNTIME', `Cannot ${verb} container ${c.record.id.slice(0, 12)}: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** Paths of the upper dir that are the runtime's mount points, not the user's changes (Docker keeps them in its init layer). */
async function mountStubs(upper: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const p of STUBS) {
    const st = await lstat(join(upper, p)).catch(() => undefined);
    if (st?.isFile() && st.size === 0) out.add(p);
  }
  for (const d of ['dev', 'proc', 'sys']) {
    const names = await readdir(join(upper, d)).catch(() => undefined);
    if (names && names.length === 0) out.add(d);
  }
  return out;
}

async function writeDiff(store: ImageStore, upper: string): Promise<{ digest: Digest; size: number; diskSize: number }> {
  const stubs = await mountStubs(upper);
  const tar = createTarWriter();
  const staged = store.blobs.stage(tar, { what: 'layer' });
  let diskSize = 0;
  try {
    for await (const e of overlayDiff({ upper, exclude: (rel) => stubs.has(rel) })) {
      if ((e.header.type ?? 'file') === 'file') diskSize += e.header.size ?? 0;
      await tar.addEntry(e.header, e.body?.());
    }
    await tar.finish();
  } catch (err) {
    tar.abort(err as Error);
    await staged.catch(() => undefined);
    throw err;
  }
  const blob = await staged;
  await store.blobs.commit(blob);
  return { digest: blob.digest, size: blob.size, diskSize };
}

/** Commits the container as a new image; returns its ID. */
export async function commitContainer(root: string, store: ImageStore, c: Container, o: CommitOptions): Promise<Digest> {
  const base = await store.blobs.readJson<ImageConfig>(c.record.image);
  const manifest = await store.blobs.readJson<Manifest>(c.record.manifest);
  const paused = o.running && o.pause !== false;
  if (paused) await runtime(c, root, 'pause');
  let layer;
  try {
    layer = await writeDiff(store, join(containerDir(root, c.record.id), 'upper'));
  } finally {
    if (paused) await runtime(c, root, 'resume');
  }
  const empty = layer.digest === EMPTY_LAYER;
  const created = (o.now ?? new Date()).toISOString();
  const ccfg = { ...c.record.config, Hostname: c.record.config.Hostname || c.record.id.slice(0, 12) };
  const config: ImageConfig = {
    ...base, created, container: c.record.id, container_config: ccfg,
    config: applyChanges(ccfg, o.changes ?? []),
    ...(o.author ? { author: o.author } : {}), ...(o.message ? { comment: o.message } : {}),
    history: [...(base.history ?? []), {
      created, ...(o.author ? { author: o.author } : {}), created_by: (c.record.config.Cmd ?? []).join(' '),
      ...(o.message ? { comment: o.message } : {}), ...(empty ? { empty_layer: true } : {}),
    }],
    rootfs: { type: 'layers', diff_ids: [...(base.rootfs?.diff_ids ?? []), ...(empty ? [] : [layer.digest])] },
  };
  if (!o.author) delete config.author;
  if (!o.message) delete config.comment;
  const layers = [...manifest.layers];
  if (!empty) layers.push({ mediaType: MediaType.ociLayer, digest: layer.digest, size: layer.size, annotations: { [Annotation.layerSize]: String(layer.diskSize) } });
  const res = await store.commitImage({
    manifest: { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: layer.digest, size: 0 }, layers },
    config, names: o.names,
  });
  return res.id;
}

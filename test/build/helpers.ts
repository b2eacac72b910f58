/**
 * Shared by the build tests: making contexts, preparing a parity case's context, reading a
 * built image straight from the store's OCI layout, and listing a layer
 * with GNU tar as the recorded expectations were listed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/cli.js';

/** A maker of fresh context directories (ctx-1, ctx-2, ... in `work`) holding the given files. */
export function contextMaker(work: string): (files: Record<string, string>) => string {
  let n = 0;
  return (files) => {
    const dir = join(work, `ctx-${++n}`);
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };
}

/** test/fixtures/build */
export const BUILD_FIXTURES = join(FIXTURES, 'build');

/** Makes the context of parity case `name` in `dest` (test/fixtures/build/prepare.sh). */
export function prepareCase(name: string, dest: string): void {
  execFileSync('sh', [join(BUILD_FIXTURES, 'prepare.sh'), join(BUILD_FIXTURES, name), dest]);
}

/** An image as the store holds it. */
export interface StoredImage {
  /** The config blob's digest (the image ID). */
  id: string;
  config: Record<string, unknown> & { config: Record<string, unknown>; history: Record<string, unknown>[] };
  /** Layer blob paths, bottom first. */
  layerFiles: string[];
  layerDigests: string[];
}

function blobPath(root: string, digest: string): string {
  return join(root, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

/** Reads the image tagged `ref` (full reference, e.g. docker.io/library/x:latest) from the store at `root`. */
export function readImage(root: string, ref: string): StoredImage {
  const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref);
  if (!entry) throw new Error(`${ref} not in ${root}/index.json`);
  const manifest = JSON.parse(readFileSync(blobPath(root, entry.digest), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const config = JSON.parse(readFileSync(blobPath(root, manifest.config.digest), 'utf8')) as StoredImage['config'];
  return {
    id: manifest.config.digest, config,
    layerFiles: manifest.layers.map((l) => blobPath(root, l.digest)), layerDigests: manifest.layers.map((l) => l.digest),
  };
}

/** `tar -tvv --numeric-owner --full-time -f FILE` lines (GNU tar, as record.sh lists Docker's layers). */
export function tarListing(file: string): string[] {
  const out = execFileSync('tar', ['-tvv', '--numeric-owner', '--full-time', '-f', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
  return out.split('\n').filter((l) => l !== '');
}

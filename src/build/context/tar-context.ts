/**
 * A build context given as a tar (on stdin, or downloaded from a URL by the
 * caller): sniffed for gzip/bzip2/xz/zstd, then extracted safely into a
 * temporary directory with src/layer's applyLayer — no whiteout handling
 * (a `.wh.` file is an ordinary file in a context), no ownership (Docker
 * resets context owners to root anyway), devices skipped. The directory is
 * then used like any context directory (.dockerignore applies after
 * extraction, as with `docker build - < ctx.tar`).
 */
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { SlipwayError, isSlipwayError } from '../../errors.js';
import { applyLayer } from '../../layer/apply.js';
import { decompress } from '../../layer/compression.js';

/** Options of contextFromTar. */
export interface ContextFromTarOptions {
  /** The tar stream, compressed or not. */
  input: Readable;
  /** Directory to extract into (created; the caller removes it after the build). */
  tmpDir: string;
}

/** What contextFromTar extracted. */
export interface TarContext {
  /** The context directory (= tmpDir). */
  dir: string;
  /** Entries extracted. */
  entries: number;
  /** Things skipped (device nodes ...). */
  warnings: string[];
}

/**
 * Extract a tar build context into `tmpDir`. A corrupt or unsafe archive
 * is a BUILD error naming the problem; the partial directory is removed.
 */
export async function contextFromTar(opts: ContextFromTarOptions): Promise<TarContext> {
  try {
    const plain = await decompress(opts.input);
    const r = await applyLayer({ input: plain, dest: opts.tmpDir, label: 'build context tar', whiteouts: false, chown: false, devices: 'skip', xattrs: false });
    return { dir: opts.tmpDir, entries: r.entries, warnings: r.warnings };
  } catch (err) {
    await rm(opts.tmpDir, { recursive: true, force: true });
    const msg = isSlipwayError(err) ? err.message : (err as Error).message;
    throw new SlipwayError('BUILD', `unable to prepare context: ${msg}`, { cause: err });
  }
}

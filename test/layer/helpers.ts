/** Shared helpers for the layer tests: temp dirs, running programs, collecting entries. */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { readTar } from '../../src/layer/tar-reader.js';
import type { TarHeader } from '../../src/layer/tar-format.js';

/** A fresh temporary directory, removed when the process exits. */
export function tmpDir(prefix = 'slipway-layer-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Run a program, returning stdout (throws with stderr on failure). */
export function sh(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer } = {}): Buffer {
  return execFileSync(cmd, args, { cwd: opts.cwd, input: opts.input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** True when `cmd` can be run. */
export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** One entry read back: header plus body. */
export interface ReadEntry { header: TarHeader; body: Buffer }

/** Read a whole tar (from a Buffer or file path) into memory. */
export async function readAll(src: Buffer | string, chunkSize = 0): Promise<ReadEntry[]> {
  const data = typeof src === 'string' ? fs.readFileSync(src) : src;
  const out: ReadEntry[] = [];
  for await (const e of readTar(chunked(data, chunkSize))) out.push({ header: e.header, body: await e.buffer() });
  return out;
}

/** A Readable over `data` in chunks of `size` bytes (0: one chunk). */
export function chunked(data: Buffer, size = 0): Readable {
  if (size <= 0) return Readable.from([data], { objectMode: false });
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

/** Collect a stream into a Buffer. */
export async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Set an xattr with whatever tool exists (setfattr or python3); false when neither works. */
export function trySetXattr(file: string, key: string, value: string): boolean {
  if (have('setfattr')) return spawnSync('setfattr', ['-n', key, '-v', value, file]).status === 0;
  if (have('python3')) {
    const r = spawnSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())', file, key, value]);
    return r.status === 0;
  }
  return false;
}

/** Read an xattr with getfattr or python3; null when missing or no tool. */
export function tryGetXattr(file: string, key: string): string | null {
  if (have('python3')) {
    const r = spawnSync('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).decode())', file, key]);
    return r.status === 0 ? r.stdout.toString() : null;
  }
  return null;
}

/** "a long path component" helper: a name of exactly n bytes. */
export function nameOf(n: number, ch = 'x'): string {
  return ch.repeat(n);
}

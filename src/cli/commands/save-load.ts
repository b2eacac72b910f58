/** `save` and `load`: docker-archive tars in and out of the store. */
import { createReadStream, fstatSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SlipwayError, isErrno } from '../../errors.js';
import { loadArchive } from '../../archive/load.js';
import { saveArchive, saveArchiveToFile, type SaveItem } from '../../archive/save.js';
import { familiarString, fullName, parseAnyReference, parseReference } from '../../oci/reference.js';
import type { ImageRecord } from '../../store/records.js';
import { findImage } from '../../store/resolve.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';

/** `slipway save [-o FILE] IMAGE...` */
export async function saveCommand(ctx: CliContext, words: string[], opts: Opts): Promise<void> {
  const output = opts.output as string | undefined;
  if (!output && ctx.stdout.isTTY) {
    throw new SlipwayError('USAGE', 'cowardly refusing to save to a terminal. Use the -o flag or redirect', { exitCode: 1 });
  }
  const store = ctx.store();
  const records = await store.list();
  const items = new Map<string, SaveItem>();
  for (const w of words) {
    for (const [record, name] of repositoryTags(records, w)) {
      const item = items.get(record.id) ?? { record, names: [] };
      if (!item.names.includes(name)) item.names.push(name);
      items.set(record.id, item);
    }
    if (repositoryTags(records, w).length > 0) continue;
    const found = findImage(records, w);
    // The daemon's save names the image as typed: "No such image: nosuch" (save-missing.txt), no ":latest".
    if (!found) throw new SlipwayError('NOT_FOUND', `No such image: ${w}`);
    const { record, name } = found;
    const item = items.get(record.id) ?? { record, names: [] };
    if (name && !name.includes('@') && !item.names.includes(name)) item.names.push(name);
    items.set(record.id, item);
  }
  const saveOptions = { store, items: [...items.values()] };
  if (!output) {
    await pipeline(saveArchive(saveOptions), ctx.stdout, { end: false });
    return;
  }
  // Write beside the target and rename, so a failed save never leaves a partial file.
  const tmp = join(dirname(output), `.${basename(output)}.slipway-${process.pid}`);
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await saveArchiveToFile(saveOptions, fh);
    } finally {
      await fh.close();
    }
    await rename(tmp, output);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (isErrno(err, 'ENOENT') || isErrno(err, 'EACCES')) throw new SlipwayError('IO', `failed to save image: open ${output}: ${(err as Error).message}`, { cause: err });
    throw err;
  }
}

/** A repository name without tag or digest stands for all its tags (`docker save repo`); [] for anything else. */
function repositoryTags(records: readonly ImageRecord[], word: string): [ImageRecord, string][] {
  let ref;
  try {
    const any = parseAnyReference(word);
    if (any.kind !== 'reference' || any.ref.tag !== undefined || any.ref.digest !== undefined) return [];
    ref = any.ref;
  } catch {
    return [];
  }
  const repo = fullName(ref);
  return records.flatMap((r) => r.names.filter((n) => !n.includes('@') && fullName(parseReference(n)) === repo).map((n): [ImageRecord, string] => [r, n]));
}

/** `slipway load [-i FILE] [-q]` */
export async function loadCommand(ctx: CliContext, _args: string[], opts: Opts): Promise<void> {
  const file = opts.input as string | undefined;
  let loaded;
  if (file) {
    const fh = await open(file, 'r').catch((err: unknown) => { throw openError(file, err); });
    try {
      loaded = await loadArchive({ store: ctx.store(), file: fh, source: file });
    } finally {
      await fh.close();
    }
  } else {
    if (ctx.stdin.isTTY) throw new SlipwayError('USAGE', 'requested load from stdin, but stdin is empty', { exitCode: 1 });
    // stdin redirected from a file is read like `-i` (from its offset), a pipe as a stream.
    const file = ctx.stdin === process.stdin && fstatSync(0).isFile() ? { fd: 0 } : undefined;
    loaded = await loadArchive({ store: ctx.store(), input: ctx.stdin as never, ...(file ? { file } : {}), source: 'stdin' });
  }
  const lines: string[] = [];
  for (const img of loaded) {
    for (const [name, old] of img.replaced) {
      lines.push(`The image ${familiarString(parseReference(name))} already exists, renaming the old one with ID ${old} to empty string`);
    }
    if (img.names.length === 0) lines.push(`Loaded image ID: ${img.id}`);
    for (const n of img.names) lines.push(`Loaded image: ${familiarString(parseReference(n))}`);
  }
  await ctx.out(lines.map((l) => `${l}\n`).join(''));
}

/** Opens a file for reading, turning "no such file" into Docker's wording. */
export async function openInput(file: string): Promise<NodeJS.ReadableStream> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) => reject(openError(file, err)));
  });
  return stream;
}

/** docker/cli opens the file itself and prints the error bare (load-missing-file.txt, import-missing.txt): exit 1, no prefix. */
function openError(file: string, err: unknown): SlipwayError {
  const why = isErrno(err, 'ENOENT') ? 'no such file or directory' : (err as Error).message;
  return new SlipwayError('USAGE', `open ${file}: ${why}`, { cause: err, exitCode: 1 });
}

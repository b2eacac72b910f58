/** `commit` (a container's changes as a new image) and `export` (its filesystem as a tar). */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { SlipwayError } from '../../errors.js';
import { commitContainer } from '../../container/commit.js';
import { isRunning, reconcile } from '../../container/lifecycle.js';
import { resolveContainer } from '../../container/records.js';
import { mountForReading, runDirOf } from '../../container/rootfs.js';
import { tarDirectory } from '../../layer/index.js';
import { parseReference } from '../../oci/reference.js';
import { normalizeName } from '../../store/resolve.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';

/** `slipway commit [-a AUTHOR] [-m MESSAGE] [-c INSTRUCTION]... [-p] CONTAINER [REPOSITORY[:TAG]]` */
export async function commitCommand(ctx: CliContext, args: string[], opts: Opts): Promise<void> {
  const [word, repo] = args as [string, string | undefined];
  await reconcile(ctx.root);
  const c = await resolveContainer(ctx.root, word);
  const names = repo ? [normalizeName(parseReference(repo))] : [];
  const store = ctx.store();
  try {
    const id = await commitContainer(ctx.root, store, c, {
      ...(opts.author ? { author: opts.author as string } : {}), ...(opts.message ? { message: opts.message as string } : {}),
      changes: (opts.change as string[]) ?? [], pause: opts.pause !== false, names, running: isRunning(c), now: ctx.now(),
    });
    await ctx.out(`${id}\n`);
  } finally {
    await store.close();
  }
}

/** `slipway export [-o FILE] CONTAINER` */
export async function exportCommand(ctx: CliContext, args: string[], opts: Opts): Promise<void> {
  const output = opts.output as string | undefined;
  if (!output && ctx.stdout.isTTY) throw new SlipwayError('USAGE', 'cowardly refusing to save to a terminal. Use the -o flag or redirect', { exitCode: 1 });
  await reconcile(ctx.root);
  const c = await resolveContainer(ctx.root, args[0] as string);
  const mounted = isRunning(c) ? { rootfs: `${runDirOf(ctx.root, c.record.id)}/rootfs`, release: async () => undefined } : await mountForReading(ctx.root, c.record);
  const tmp = output ? `${output}.slipway-${process.pid}` : undefined;
  try {
    const tar = tarDirectory({ dir: mounted.rootfs, xattrs: true });
    if (tmp && output) {
      await pipeline(tar, createWriteStream(tmp));
      await rename(tmp, output);
    } else {
      await pipeline(tar, ctx.stdout, { end: false });
    }
  } finally {
    if (tmp) await rm(tmp, { force: true });
    await mounted.release();
  }
}

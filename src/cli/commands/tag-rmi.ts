/** `tag` and `rmi`. */
import { SlipwayError } from '../../errors.js';
import { parseReference } from '../../oci/reference.js';
import { deleteImage, type DeleteRecord } from '../../store/delete.js';
import { normalizeName, resolveImage } from '../../store/resolve.js';
import { write, type CliContext } from '../context.js';
import type { Opts } from '../program.js';
import { collectStore, containerUsers } from './builder.js';

/** `slipway tag SOURCE TARGET` */
export async function tagCommand(ctx: CliContext, args: string[]): Promise<void> {
  const [source, target] = args as [string, string];
  let name: string;
  try {
    name = normalizeName(parseReference(target));
  } catch (err) {
    // docker/cli parses the target itself and prints this error bare (no daemon prefix): a client-side usage error, exit 1.
    throw new SlipwayError('USAGE', `Error parsing reference: "${target}" is not a valid repository/tag: ${(err as Error).message}`, { cause: err, exitCode: 1 });
  }
  const store = ctx.store();
  const { record } = resolveImage(await store.list(), source);
  await store.tag(record.id, name);
}

/** Renders deletion records as Docker prints them (`Untagged: x`, `Deleted: sha256:...`). */
export function formatDeleteRecords(records: DeleteRecord[], lowercase = false): string {
  return records.map((r) => {
    const [key, value] = 'untagged' in r ? ['Untagged', r.untagged] : ['Deleted', r.deleted];
    return `${lowercase ? key.toLowerCase() : key}: ${value}\n`;
  }).join('');
}

/** `slipway rmi [-f] [--no-prune] IMAGE...`: each argument on its own; failures are reported and the rest go on. */
export async function rmiCommand(ctx: CliContext, words: string[], opts: Opts): Promise<number> {
  const store = ctx.store();
  const containers = await containerUsers(ctx);
  let status = 0;
  for (const word of words) {
    try {
      const { records } = await deleteImage(store, word, { force: Boolean(opts.force), containers });
      await ctx.out(formatDeleteRecords(records));
    } catch (err) {
      if (!(err instanceof SlipwayError)) throw err;
      await write(ctx.stderr, `Error: ${err.message}\n`);
      status = 1;
    }
  }
  await collectStore(ctx);
  return status;
}

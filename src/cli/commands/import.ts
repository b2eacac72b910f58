/** `import FILE|URL|- [REPOSITORY[:TAG]] [-c INSTRUCTION]... [-m MESSAGE] [--platform P]`: a rootfs tarball as a one-layer image. */
import { Readable } from 'node:stream';
import { SlipwayError } from '../../errors.js';
import { applyChanges } from '../../image/config-changes.js';
import { stageLayer } from '../../image/stage-layer.js';
import { MediaType } from '../../oci/media-types.js';
import { hostPlatform, parsePlatform } from '../../oci/platform.js';
import { parseReference } from '../../oci/reference.js';
import type { ImageConfig } from '../../oci/types.js';
import { Annotation } from '../../store/refs.js';
import { normalizeName } from '../../store/resolve.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';
import { openInput } from './save-load.js';

async function openSource(ctx: CliContext, source: string): Promise<Readable> {
  if (source === '-') return ctx.stdin as unknown as Readable;
  if (/^https?:\/\//.test(source)) {
    const { getUrl } = await import('../../registry/url-get.js');
    return (await getUrl(source, (reason) => `Get "${source}": ${reason}`)).body;
  }
  return (await openInput(source)) as Readable;
}

/** `slipway import` */
export async function importCommand(ctx: CliContext, args: string[], opts: Opts): Promise<void> {
  const [source, repo] = args as [string, string | undefined];
  if (args.length > 2) throw new SlipwayError('USAGE', `"slipway import" requires at least 1 and at most 2 arguments.`, { exitCode: 1 });
  const names = repo ? [normalizeName(parseReference(repo))] : [];
  const platform = opts.platform ? parsePlatform(opts.platform as string) : hostPlatform();
  const runtime = applyChanges({}, (opts.change as string[]) ?? []);
  const store = ctx.store();
  let layer;
  try {
    layer = await stageLayer(store.blobs, await openSource(ctx, source), `import ${source}`);
  } catch (err) {
    await store.close(); // a refused or unreadable rootfs leaves no lease behind
    throw err;
  }
  try {
    await store.blobs.commit(layer.blob);
  } finally {
    await store.blobs.discard(layer.blob);
  }
  const created = ctx.now().toISOString();
  const message = (opts.message as string | undefined) ?? '';
  const config: ImageConfig = {
    architecture: platform.architecture, ...(message ? { comment: message } : {}),
    config: runtime, created,
    history: [{ created, ...(message ? { comment: message } : {}) }],
    os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}),
    rootfs: { type: 'layers', diff_ids: [layer.blob.digest] },
  };
  const res = await store.commitImage({
    manifest: {
      schemaVersion: 2, mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: layer.blob.digest, size: 0 },
      layers: [{ mediaType: MediaType.ociLayer, digest: layer.blob.digest, size: layer.blob.size, annotations: { [Annotation.layerSize]: String(layer.diskSize) } }],
    },
    config, names,
  });
  await ctx.out(`${res.id}\n`);
}

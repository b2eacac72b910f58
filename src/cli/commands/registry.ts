/** `pull`, `push`, `login`, `logout` and `search`, with Docker's progress lines and final words. */
import type { Writable } from 'node:stream';
import { SlipwayError } from '../../errors.js';
import { parsePlatform } from '../../oci/platform.js';
import { familiarName, familiarString, fullName, parseReference, referenceString, withDefaultTag, type Reference } from '../../oci/reference.js';
import {
  connectRegistry, getCredentials, login, loginDisplayName, loginHost, logout, pullImage, pushImage, searchImages,
  type LayerEvent, type PushCompression, type SearchResult,
} from '../../registry/index.js';
import { registryHost } from '../../oci/reference.js';
import { findImage } from '../../store/resolve.js';
import { checkFilterKeys, getBoolFilter, parseFilters } from '../filters.js';
import { renderFormatted } from '../format.js';
import { humanSize } from '../humanize.js';
import { write, type CliContext } from '../context.js';
import type { Opts } from '../program.js';

/** Docker's per-layer progress: one line per layer, redrawn in place on a terminal. */
class LayerProgress {
  private readonly lines: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly last = new Map<string, string>();
  private lastDraw = 0;

  constructor(private readonly out: Writable, private readonly tty: boolean, private readonly quiet: boolean) {}

  event = (e: LayerEvent): void => {
    if (this.quiet) return;
    const progress = e.current !== undefined && e.total !== undefined;
    if (!this.tty && progress) return;
    if (progress && Date.now() - this.lastDraw < 100 && e.current !== e.total) return;
    this.lastDraw = Date.now();
    const text = `${e.id}: ${e.status}${progress ? ` ${bar(e.current ?? 0, e.total ?? 0)}` : ''}`;
    if (this.last.get(e.id) === text) return;
    this.last.set(e.id, text);
    if (!this.tty) {
      this.out.write(`${text}\n`);
      return;
    }
    const at = this.ids.get(e.id);
    if (at === undefined) {
      this.ids.set(e.id, this.lines.length);
      this.lines.push(text);
      this.out.write(`${text}\n`);
      return;
    }
    const up = this.lines.length - at;
    this.lines[at] = text;
    this.out.write(`\x1b[${up}A\x1b[2K\r${text}\r\x1b[${up}B`);
  };
}

function bar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const arrow = filled < width ? `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}` : '='.repeat(width);
  return `[${arrow}]  ${humanSize(current)}/${humanSize(total)}`;
}

function parseName(word: string): Reference {
  try {
    return parseReference(word);
  } catch (err) {
    throw new SlipwayError('USAGE', `invalid reference format: ${(err as Error).message.replace(/^invalid reference format: /, '')}`, { cause: err, exitCode: 1 });
  }
}

/** `slipway pull [-a] [--platform P] [-q] NAME[:TAG|@DIGEST]` */
export async function pullCommand(ctx: CliContext, args: string[], opts: Opts): Promise<void> {
  const typed = parseName(args[0] as string);
  const all = Boolean(opts.allTags);
  const quiet = Boolean(opts.quiet);
  if (all && (typed.tag !== undefined || typed.digest !== undefined)) throw new SlipwayError('USAGE', 'tag can\'t be used with --all-tags/-a', { exitCode: 1 });
  const platform = typeof opts.platform === 'string' && opts.platform !== '' ? parsePlatform(opts.platform) : undefined;
  const out = ctx.stdout;
  const say = (s: string): Promise<void> => (quiet ? Promise.resolve() : write(out, `${s}\n`));
  if (!all && typed.tag === undefined && typed.digest === undefined) await say('Using default tag: latest');
  const store = ctx.store();
  const client = await connectRegistry(registryHost(typed));
  try {
    const tags = all ? await client.tags(typed.path) : [typed.tag];
    let downloaded = false;
    for (const tag of tags) {
      const ref: Reference = typed.digest !== undefined ? typed : { ...typed, tag: tag ?? 'latest' };
      const progress = new LayerProgress(out, Boolean(ctx.stdout.isTTY), quiet);
      const heading = `${ref.digest !== undefined ? referenceString(ref) : ref.tag}: Pulling from ${ref.path}\n`;
      const result = await pullImage({
        store, ref, client, onLayer: progress.event, onResolved: () => { if (!quiet) out.write(heading); }, ...(platform ? { platform } : {}),
      });
      await say(`Digest: ${result.digest}`);
      downloaded ||= !result.upToDate;
      if (!all) {
        await say(`Status: ${result.upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarString(ref)}`);
        await write(out, `${referenceString(ref)}\n`);
      }
    }
    if (all) {
      await say(`Status: ${downloaded ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarName(typed)}`);
      await write(out, `${fullName(typed)}\n`);
    }
  } finally {
    client.http.close();
  }
}

function compressionOf(opts: Opts): PushCompression {
  const c = (opts.compression as string | undefined) ?? 'gzip';
  if (c === 'gzip' || c === 'zstd') return c;
  if (c === 'none' || c === 'uncompressed') return 'none';
  throw new SlipwayError('USAGE', `invalid argument "${c}" for "--compression" flag: must be gzip, zstd or uncompressed`);
}

/** `slipway push [-a] [-q] [--compression gzip|zstd|uncompressed] [--oci] NAME[:TAG]` */
export async function pushCommand(ctx: CliContext, args: string[], opts: Opts): Promise<void> {
  const typed = parseName(args[0] as string);
  const all = Boolean(opts.allTags);
  const quiet = Boolean(opts.quiet);
  if (all && typed.tag !== undefined) throw new SlipwayError('USAGE', 'tag can\'t be used with --all-tags/-a', { exitCode: 1 });
  if (typed.digest !== undefined) throw new SlipwayError('USAGE', 'cannot push a digest reference', { exitCode: 1 });
  const out = ctx.stdout;
  const say = (s: string): Promise<void> => (quiet ? Promise.resolve() : write(out, `${s}\n`));
  if (!all && typed.tag === undefined) await say('Using default tag: latest');
  const store = ctx.store();
  const records = await store.list();
  const prefix = `${fullName(typed)}:`;
  const tags = all
    ? [...new Set(records.flatMap((r) => r.names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length))))].sort()
    : [typed.tag ?? 'latest'];
  const images = tags.map((tag) => ({ tag, rec: findImage(records, `${prefix}${tag}`)?.record }));
  await say(`The push refers to repository [${fullName(typed)}]`);
  if (images.length === 0 || images.some((i) => i.rec === undefined)) {
    throw new SlipwayError('USAGE', `An image does not exist locally with the tag: ${familiarName(typed)}`, { exitCode: 1 });
  }
  const chunk = opts.chunkSize !== undefined ? Number(opts.chunkSize) : undefined;
  const client = await connectRegistry(registryHost(typed));
  try {
    for (const { tag, rec } of images) {
      const progress = new LayerProgress(out, Boolean(ctx.stdout.isTTY), quiet);
      const ref: Reference = { ...typed, tag };
      const result = await pushImage({
        store, image: rec!, ref, client, compression: compressionOf(opts), onLayer: progress.event,
        ...(opts.oci ? { format: 'oci' as const } : {}), ...(chunk !== undefined && chunk > 0 ? { chunkSize: chunk } : {}),
      });
      await say(`${tag}: digest: ${result.digest} size: ${result.size}`);
      if (quiet) await write(out, `${referenceString(withDefaultTag(ref))}\n`);
    }
    if (quiet && all) return;
  } finally {
    client.http.close();
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer | string>) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(parts).toString('utf8');
}

/** `slipway login [-u USER] [-p PASS | --password-stdin] [SERVER]` */
export async function loginCommand(ctx: CliContext, args: string[], opts: Opts): Promise<void> {
  const server = args[0];
  let username = opts.username as string | undefined;
  let password = opts.password as string | undefined;
  if (password !== undefined && opts.passwordStdin) throw new SlipwayError('USAGE', '--password and --password-stdin are mutually exclusive', { exitCode: 1 });
  if (opts.passwordStdin) {
    if (!username) throw new SlipwayError('USAGE', 'Must provide --username with --password-stdin', { exitCode: 1 });
    password = (await readAll(ctx.stdin)).replace(/\r?\n$/, '').replace(/\r$/, '');
  }
  if (password !== undefined && !opts.passwordStdin) await write(ctx.stderr, 'WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (username === undefined && password === undefined) {
    const saved = await getCredentials(loginHost(server));
    if (saved) {
      await ctx.out('Authenticating with existing credentials...\n');
      await login(server, saved);
      await ctx.out('Login Succeeded\n');
      return;
    }
  }
  if (!username || password === undefined || password === '') {
    if (!ctx.stdin.isTTY) throw new SlipwayError('USAGE', 'Cannot perform an interactive login from a non TTY device', { exitCode: 1 });
    username ||= await prompt(ctx, 'Username: ', true);
    if (password === undefined || password === '') password = await prompt(ctx, 'Password: ', false);
  }
  if (!username) throw new SlipwayError('USAGE', 'Username cannot be empty', { exitCode: 1 });
  if (!password) throw new SlipwayError('USAGE', 'Error: Password Required', { exitCode: 1 });
  const stored = await login(server, { username, password });
  if (stored.helper === undefined) {
    await write(ctx.stderr, `WARNING! Your password will be stored unencrypted in ${stored.file}.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/engine/reference/commandline/login/#credentials-store\n\n`);
  }
  await ctx.out('Login Succeeded\n');
}

/** Reads one line from the terminal; without echo for passwords. */
async function prompt(ctx: CliContext, question: string, echo: boolean): Promise<string> {
  await ctx.out(question);
  const stdin = ctx.stdin as NodeJS.ReadStream;
  const raw = !echo && typeof stdin.setRawMode === 'function';
  if (raw) stdin.setRawMode(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      let line = '';
      const onData = (c: Buffer | string): void => {
        for (const ch of c.toString()) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            stdin.pause();
            if (raw) ctx.stdout.write('\n');
            resolve(line);
            return;
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            stdin.pause();
            reject(new SlipwayError('USAGE', '', { exitCode: 130 }));
            return;
          }
          line = ch === '\u007f' ? line.slice(0, -1) : line + ch;
        }
      };
      stdin.on('data', onData);
      stdin.resume();
    });
  } finally {
    if (raw) stdin.setRawMode(false);
  }
}

/** `slipway logout [SERVER]` */
export async function logoutCommand(ctx: CliContext, args: string[]): Promise<void> {
  const server = args[0];
  await ctx.out(`Removing login credentials for ${loginDisplayName(server)}\n`);
  await logout(server);
}

/** docker/cli's formatter.Ellipsis for ASCII text. */
function ellipsis(s: string, width: number): string {
  const chars = Array.from(s);
  return chars.length <= width ? s : `${chars.slice(0, width - 1).join('')}…`;
}

function filterResults(results: SearchResult[], filterFlags: string[]): SearchResult[] {
  const filters = parseFilters(filterFlags);
  checkFilterKeys(filters, ['stars', 'is-automated', 'is-official']);
  let minStars = 0;
  for (const v of filters.get('stars') ?? []) {
    if (!/^-?\d+$/.test(v)) throw new SlipwayError('INVALID_ARGUMENT', `Invalid filter 'stars=${v}'`);
    minStars = Math.max(minStars, Number(v));
  }
  const official = filters.has('is-official') ? getBoolFilter(filters, 'is-official', false) : undefined;
  const automated = filters.has('is-automated') ? getBoolFilter(filters, 'is-automated', false) : undefined;
  return results.filter((r) => r.star_count >= minStars && (official === undefined || r.is_official === official)
    && (automated === undefined || r.is_automated === automated));
}

/** `slipway search [--limit N] [--filter ...] [--no-trunc] [--format F] TERM` */
export async function searchCommand(ctx: CliContext, args: string[], opts: Opts): Promise<void> {
  const limit = opts.limit === undefined ? 25 : Number(opts.limit);
  if (!Number.isInteger(limit)) throw new SlipwayError('USAGE', `invalid argument "${String(opts.limit)}" for "--limit" flag: strconv.ParseInt: parsing "${String(opts.limit)}": invalid syntax`);
  const filterFlags = (opts.filter as string[] | undefined) ?? [];
  filterResults([], filterFlags);
  const results = filterResults(await searchImages({ term: args[0] as string, limit }), filterFlags);
  results.sort((a, b) => b.star_count - a.star_count);
  const trunc = opts.trunc !== false;
  const format = (opts.format as string | undefined) || 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}\t{{.IsAutomated}}';
  const json = format.trim() === 'json';
  const bool = (v: boolean): string => (json ? String(v) : v ? '[OK]' : '');
  const rows = results.map((r) => {
    const desc = r.description.replace(/[\r\n]/g, ' ');
    return { Name: r.name, Description: trunc ? ellipsis(desc, 45) : desc, StarCount: String(r.star_count), IsOfficial: bool(r.is_official), IsAutomated: bool(r.is_automated) };
  });
  const text = renderFormatted({
    format: format === 'table' ? 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}\t{{.IsAutomated}}' : format,
    headers: { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL', IsAutomated: 'AUTOMATED' },
    typeName: '*formatter.searchContext', rows,
  });
  await ctx.out(text);
}

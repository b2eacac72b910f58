/** `slipway images` / `image ls`: one row per image name, as docker/cli prints them. */
import { shortId } from '../../oci/digest.js';
import { familiarName, fullName, matchReferencePattern, parseReference } from '../../oci/reference.js';
import { isDangling, type ImageRecord } from '../../store/records.js';
import { resolveImage } from '../../store/resolve.js';
import type { ImageStore } from '../../store/image-store.js';
import { checkFilterKeys, getBoolFilter, matchLabelFilters, parseFilterTime, parseFilters, type Filters } from '../filters.js';
import { createdSince, formatGoTime, humanSize, humanSizeWithPrecision } from '../humanize.js';
import { renderFormatted } from '../format.js';
import type { CliContext } from '../context.js';
import type { Opts } from '../program.js';

const HEADERS = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', VirtualSize: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE',
};

/** One printed row: an image under one of its names. */
interface Row {
  record: ImageRecord;
  repository: string;
  tag: string;
  digest: string;
}

/** `slipway images [OPTIONS] [REPOSITORY[:TAG]]` */
export async function imagesCommand(ctx: CliContext, args: string[], opts: Opts): Promise<void> {
  const filters = parseFilters(opts.filter as string[]);
  if (args[0] !== undefined) filters.set('reference', [...(filters.get('reference') ?? []), args[0]]);
  checkFilterKeys(filters, ['dangling', 'label', 'before', 'since', 'reference', 'until']);
  const store = ctx.store();
  const records = await store.list();
  const kept = await filterImages(store, records, filters);
  const rows = kept.flatMap((r) => rowsOf(r, filters.get('reference')));
  const trunc = opts.trunc !== false;
  const now = ctx.now();
  const defaultFormat = opts.digests
    ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
    : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
  const out = renderFormatted({
    format: opts.quiet ? '{{.ID}}' : (opts.format as string | undefined) || defaultFormat,
    headers: HEADERS,
    typeName: '*formatter.imageContext',
    rows: rows.map((row) => imageFields(row, trunc, now)),
  });
  await ctx.out(out);
}

/**
 * The fields a format can use. Getters (enumerable, so `{{json .}}` still
 * shows them all, in this order): a format pays only for what it prints, e.g.
 * CreatedAt's time-zone lookup and the size formatting are skipped by `-q`.
 */
function imageFields(row: Row, trunc: boolean, now: Date): Record<string, unknown> {
  // The engine's image list carries Created in whole seconds (unix time): CreatedAt shows no fraction.
  const created = () => (row.record.created ? new Date(Math.floor(Date.parse(row.record.created) / 1000) * 1000) : undefined);
  return {
    Containers: 'N/A',
    get CreatedAt() {
      const c = created();
      return c ? formatGoTime(c) : '';
    },
    get CreatedSince() {
      const c = created();
      return c && c.getTime() > 0 ? createdSince(c, now) : 'N/A';
    },
    Digest: row.digest,
    ID: trunc ? shortId(row.record.id) : row.record.id,
    Repository: row.repository,
    SharedSize: 'N/A',
    get Size() { return humanSizeWithPrecision(row.record.size, 3); },
    Tag: row.tag,
    UniqueSize: 'N/A',
    get VirtualSize() { return humanSize(row.record.size); },
  };
}

/** The rows of one image: a row per tag, plus `repo <none>` for digests without a tag. */
function rowsOf(rec: ImageRecord, patterns: string[] | undefined): Row[] {
  if (rec.names.length === 0 && rec.repoDigests.length === 0) return [{ record: rec, repository: '<none>', tag: '<none>', digest: '<none>' }];
  const rows: Row[] = [];
  const repos = new Set<string>();
  for (const name of rec.names) {
    const ref = parseReference(name);
    if (patterns && !patterns.some((p) => matchReferencePattern(ref, p))) continue;
    repos.add(fullName(ref));
    const digest = rec.repoDigests.find((d) => d.startsWith(`${fullName(ref)}@`))?.split('@')[1] ?? '<none>';
    rows.push({ record: rec, repository: familiarName(ref), tag: ref.tag ?? '<none>', digest });
  }
  for (const rd of rec.repoDigests) {
    const ref = parseReference(rd);
    if (repos.has(fullName(ref)) || (patterns && !patterns.some((p) => matchReferencePattern(ref, p)))) continue;
    repos.add(fullName(ref));
    rows.push({ record: rec, repository: familiarName(ref), tag: '<none>', digest: ref.digest ?? '<none>' });
  }
  return rows;
}

/** Applies docker's image filters; returns the kept images, newest first. */
export async function filterImages(store: ImageStore, records: ImageRecord[], filters: Filters): Promise<ImageRecord[]> {
  const dangling = filters.has('dangling') ? getBoolFilter(filters, 'dangling', false) : undefined;
  const time = (r: ImageRecord) => (r.created ? Date.parse(r.created) : 0);
  const bound = (key: string) => {
    const words = filters.get(key) ?? [];
    return words.map((w) => time(resolveImage(records, w).record));
  };
  const before = bound('before');
  const since = bound('since');
  const until = (filters.get('until') ?? []).map((v) => parseFilterTime(v));
  const patterns = filters.get('reference');
  const out: ImageRecord[] = [];
  for (const r of records) {
    if (dangling !== undefined && isDangling(r) !== dangling) continue;
    if (before.some((t) => time(r) >= t) || since.some((t) => time(r) <= t) || until.some((t) => time(r) >= t)) continue;
    if (patterns && !r.names.some((n) => patterns.some((p) => matchReferencePattern(parseReference(n), p)))) continue;
    if (filters.has('label') && !matchLabelFilters(filters, (await store.config(r)).config?.Labels ?? undefined)) continue;
    out.push(r);
  }
  return out.sort((a, b) => time(b) - time(a));
}

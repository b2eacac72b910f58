/**
 * What BuildKit writes into an image's history: the `created_by` text of
 * each instruction (dockerfile2llb's commitToHistory messages), and the
 * exporter's filling of `created` times (a layer entry gets its layer's
 * creation time, a metadata entry the time of the first new layer).
 */
import type { HistoryEntry } from '../oci/types.js';
import { goQuote } from '../template/quote.js';
import type { Instruction } from '../dockerfile/index.js';

/** The comment BuildKit puts on every history entry it writes. */
export const HISTORY_COMMENT = 'buildkit.dockerfile.v0';

/** Go's `%q` of a string slice: `["a" "b"]`. */
function quoteList(args: readonly string[]): string {
  return `[${args.map((a) => goQuote(a)).join(' ')}]`;
}

/** Go's `%v` of a string slice: `[a b]`. */
function plainList(args: readonly string[]): string {
  return `[${args.join(' ')}]`;
}

/** Go's time.Duration String() for nanoseconds: 0s, 30s, 1m30s, 1h0m0s, 1.5s. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  let rest = ns;
  const h = Math.floor(rest / 3_600e9);
  rest -= h * 3_600e9;
  const m = Math.floor(rest / 60e9);
  rest -= m * 60e9;
  const sec = Number((rest / 1e9).toFixed(9));
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${sec}s`;
}

/**
 * The history text of a metadata instruction (no layer), or undefined for
 * instructions BuildKit records no history for (ONBUILD).
 */
export function metadataCreatedBy(ins: Instruction, config: { Cmd?: string[] | null; Entrypoint?: string[] | null }): string | undefined {
  switch (ins.kind) {
    case 'env': return `ENV${ins.pairs.map((p) => ` ${p.key}=${p.value}`).join('')}`;
    case 'label': return `LABEL${ins.pairs.map((p) => ` ${p.key}=${p.value}`).join('')}`;
    case 'cmd': return `CMD ${quoteList(config.Cmd ?? [])}`;
    case 'entrypoint': return `ENTRYPOINT ${quoteList(config.Entrypoint ?? [])}`;
    case 'user': return `USER ${ins.user}`;
    case 'volume': return `VOLUME ${plainList(ins.volumes)}`;
    case 'stopsignal': return `STOPSIGNAL ${ins.signal}`;
    case 'shell': return `SHELL ${plainList(ins.shell)}`;
    case 'maintainer': return `MAINTAINER ${ins.maintainer}`;
    case 'expose': return `EXPOSE map[${[...new Set(ins.ports)].sort().map((p) => `${p}:{}`).join(' ')}]`;
    case 'arg': return `ARG ${ins.args.map((a) => (a.value === undefined ? a.key : `${a.key}=${a.value}`)).join(' ')}`;
    case 'healthcheck': {
      const h = ins.health;
      return `HEALTHCHECK {Test:${plainList(h.test)} Interval:${goDuration(h.interval ?? 0)} Timeout:${goDuration(h.timeout ?? 0)} `
        + `StartPeriod:${goDuration(h.startPeriod ?? 0)} StartInterval:${goDuration(h.startInterval ?? 0)} Retries:${h.retries ?? 0}}`;
    }
    default: return undefined;
  }
}

/**
 * BuildKit's normalizeLayersAndHistory for `created`: entries without a time
 * take the time of the first new layer after them, or else the last known
 * time. Mutates and returns `history`.
 */
export function fillCreatedTimes(history: HistoryEntry[]): HistoryEntry[] {
  let created: string | undefined;
  let sawMissing = false;
  for (const h of history) {
    if (h.created !== undefined) {
      created = h.created;
      if (sawMissing) break;
    } else {
      sawMissing = true;
    }
  }
  sawMissing = false;
  for (const h of history) {
    if (h.created !== undefined) {
      if (sawMissing) created = h.created;
    } else {
      sawMissing = true;
      if (created !== undefined) h.created = created;
    }
  }
  return history;
}

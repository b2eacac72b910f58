/**
 * EXPOSE port specs, normalised as Docker's nat.ParsePortSpecs does.
 */
import { UnpositionedError } from './errors.js';

const PROTOS = new Set(['tcp', 'udp', 'sctp']);

function parsePort(s: string, raw: string): number {
  if (!/^\d+$/.test(s)) throw new UnpositionedError(`invalid containerPort: ${raw}`);
  const n = Number.parseInt(s, 10);
  if (n > 65535) throw new UnpositionedError(`invalid containerPort: ${raw}`);
  return n;
}

/**
 * Turns EXPOSE words (`80`, `80/udp`, `8000-8002/tcp`, `127.0.0.1:80:80`)
 * into `port/proto` entries, ranges expanded, duplicates removed. Throws
 * UnpositionedError for an invalid port or protocol.
 */
export function parseExposePorts(words: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of words) {
    let spec = raw;
    let proto = 'tcp';
    const slash = spec.lastIndexOf('/');
    if (slash >= 0) {
      proto = spec.slice(slash + 1).toLowerCase();
      spec = spec.slice(0, slash);
    }
    if (!PROTOS.has(proto)) throw new UnpositionedError(`invalid proto: ${proto}`);
    const container = spec.includes(':') ? (spec.split(':').pop() ?? '') : spec;
    const dash = container.indexOf('-');
    const start = parsePort(dash < 0 ? container : container.slice(0, dash), raw);
    const end = dash < 0 ? start : parsePort(container.slice(dash + 1), raw);
    if (end < start) throw new UnpositionedError(`invalid range specified for container port: ${raw}`);
    for (let p = start; p <= end; p++) {
      const key = `${p}/${proto}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(key);
      }
    }
  }
  return out;
}

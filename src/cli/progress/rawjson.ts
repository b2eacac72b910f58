/** `--progress=rawjson`: one BuildKit SolveStatus JSON object per event, as progressui's rawjson display writes them. */
import { createHash } from 'node:crypto';
import type { BuildEvent } from '../../build/events.js';

/**
 * Converts an event to a SolveStatus JSON line (no trailing newline).
 * Vertices have no LLB digest here: `digest` is a stable sha256 of the vertex
 * number and name. Timestamps are RFC 3339 in UTC, log data base64 as Go's
 * encoding/json writes []byte.
 */
export class RawJsonEncoder {
  private readonly vertices = new Map<number, { digest: string; name: string; started: string }>();

  /** The JSON text for one event, or undefined for an event about an unknown vertex. */
  encode(ev: BuildEvent, now: number): string | undefined {
    if (ev.type === 'warning') {
      return JSON.stringify({ warnings: [{ level: 1, short: Buffer.from(ev.text).toString('base64') }] });
    }
    if (ev.type === 'start') {
      const digest = `sha256:${createHash('sha256').update(`${ev.id}\n${ev.name}`).digest('hex')}`;
      const v = { digest, name: ev.name, started: iso(ev.at) };
      this.vertices.set(ev.id, v);
      return JSON.stringify({ vertexes: [v] });
    }
    const v = this.vertices.get(ev.id);
    if (!v) return undefined;
    if (ev.type === 'log') {
      const data = Buffer.from(`${ev.text}\n`).toString('base64');
      return JSON.stringify({ logs: [{ vertex: v.digest, stream: 1, data, timestamp: iso(now) }] });
    }
    if (ev.type === 'cached') return JSON.stringify({ vertexes: [{ ...v, completed: iso(now), cached: true }] });
    if (ev.type === 'done') return JSON.stringify({ vertexes: [{ ...v, completed: iso(ev.at) }] });
    return JSON.stringify({ vertexes: [{ ...v, completed: iso(ev.at), error: ev.message }] });
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

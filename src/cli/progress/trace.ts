/** The state of a build's vertices as the progress displays see it (BuildKit's progressui `trace`). */
import type { BuildEvent } from '../../build/events.js';

/** Output lines a vertex keeps for its terminal view in tty mode (BuildKit's `termHeight`). */
export const TERM_HEIGHT = 6;
/** Output lines kept per vertex for the error summary; older ones are dropped. */
const MAX_KEPT_LOGS = 1000;

/** One vertex (`#N`) and what has been reported about it. */
export interface VertexState {
  id: number;
  name: string;
  started: number;
  completed: number | undefined;
  cached: boolean;
  error: string | undefined;
  /** Plain mode: lines not printed yet (without the `#N ` prefix). */
  pending: string[];
  /** Plain mode: updates since the vertex last lost or gained the display, and when the first came. */
  count: number;
  lastBlock: number;
  /** Finished sub-steps (`transferring context: 2B`), shown as `=> =>` lines in tty mode. */
  statuses: string[];
  /** The last output lines (tty terminal view) and the bytes of output seen. */
  tail: string[];
  outBytes: number;
  termCount: number;
  /** Output lines as `#N 0.058 text`, for the error summary (bounded). */
  logs: string[];
}

/** Whether a vertex error means it was canceled rather than failed. */
export function isCanceled(v: VertexState): boolean {
  return v.error !== undefined && v.error.endsWith('context canceled');
}

/**
 * Formats `value` with `prec` decimals exactly as Go's `%.Nf` does: the
 * binary value rounded half to even (JavaScript's toFixed rounds exact ties up).
 */
export function goFixed(value: number, prec: number): string {
  const exact = Math.abs(value).toFixed(Math.min(100, prec + 70));
  const dot = exact.indexOf('.');
  const kept = exact.slice(0, dot + 1 + prec);
  const rest = exact.slice(dot + 1 + prec);
  const digits = kept.replace('.', '');
  const last = Number(digits[digits.length - 1] ?? '0');
  const up = rest[0] !== undefined && (rest[0] > '5' || (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) || last % 2 === 1)));
  let n = BigInt(digits);
  if (up) n += 1n;
  let s = n.toString().padStart(prec + 1, '0');
  if (prec > 0) s = `${s.slice(0, s.length - prec)}.${s.slice(s.length - prec)}`;
  return value < 0 && /[1-9]/.test(s) ? `-${s}` : s;
}

/** A duration in ms as BuildKit prints it: `%.1fs`. */
export function seconds(ms: number): string {
  return `${goFixed(Math.max(0, ms) / 1000, 1)}s`;
}

/** The offset of a log line from its vertex's start: 3 decimals under 10 s, 2 under 100 s, else 1. */
export function logOffset(ms: number): string {
  const sec = Math.max(0, ms) / 1000;
  return goFixed(sec, sec < 10 ? 3 : sec < 100 ? 2 : 1);
}

/**
 * Whether a log text is a finished sub-step (a BuildKit status such as
 * `transferring dockerfile: 37B done`) rather than a line of command output.
 * The engine reports statuses as log lines ending in ` done`.
 */
export function isStatus(text: string): boolean {
  return text.endsWith(' done');
}

/** Options of a trace. */
export interface TraceOptions {
  /** Keep unprinted lines per vertex (plain mode). */
  plain: boolean;
}

/** Applies build events to vertex states, in the order vertices started. */
export class Trace {
  readonly vertices: VertexState[] = [];
  readonly byId = new Map<number, VertexState>();
  /** Vertices with something not shown yet (plain mode). */
  readonly updates = new Set<VertexState>();
  readonly warnings: string[] = [];
  startTime: number | undefined;

  constructor(private readonly opts: TraceOptions) {}

  /** Records one event at time `now`; returns the vertex it changed, if any. */
  apply(ev: BuildEvent, now: number): VertexState | undefined {
    if (ev.type === 'warning') {
      this.warnings.push(ev.text);
      return undefined;
    }
    if (ev.type === 'start') return this.start(ev.id, ev.name, ev.at);
    const v = this.byId.get(ev.id);
    if (!v) return undefined; // BuildKit ignores updates of unknown vertices too
    if (ev.type === 'log') this.log(v, ev.text, now);
    else if (v.completed === undefined) {
      if (ev.type === 'cached') v.cached = true;
      if (ev.type === 'error') v.error = ev.message;
      v.completed = ev.type === 'cached' ? now : ev.at;
    }
    this.touch(v, now);
    return v;
  }

  /** Marks every unfinished vertex canceled at `now` (the build stopped). */
  cancelRunning(now: number): void {
    for (const v of this.vertices) {
      if (v.completed !== undefined) continue;
      v.completed = now;
      v.error = 'context canceled';
      this.touch(v, now);
    }
  }

  private start(id: number, name: string, at: number): VertexState {
    const old = this.byId.get(id);
    if (old) return old;
    const v: VertexState = {
      id, name: name.replaceAll('\t', ' '), started: at, completed: undefined, cached: false, error: undefined,
      pending: [], count: 0, lastBlock: at, statuses: [], tail: [], outBytes: 0, termCount: 0, logs: [],
    };
    this.startTime ??= at;
    this.vertices.push(v);
    this.byId.set(id, v);
    this.touch(v, at);
    return v;
  }

  private log(v: VertexState, text: string, now: number): void {
    for (const line of text.split('\n')) {
      if (isStatus(line)) {
        if (this.opts.plain) v.pending.push(line);
        else v.statuses.push(line.slice(0, -' done'.length));
        continue;
      }
      const formatted = `${logOffset(now - v.started)} ${line}`;
      if (this.opts.plain) v.pending.push(formatted);
      else {
        v.tail.push(line);
        if (v.tail.length > TERM_HEIGHT) v.tail.shift();
        v.outBytes += Buffer.byteLength(line) + 1;
        v.logs.push(`#${v.id} ${formatted}`);
        if (v.logs.length > MAX_KEPT_LOGS) v.logs.shift();
      }
    }
  }

  private touch(v: VertexState, now: number): void {
    if (v.count === 0) v.lastBlock = now;
    v.count++;
    this.updates.add(v);
  }
}

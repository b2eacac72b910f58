/**
 * Plain progress (`--progress=plain`), as BuildKit's progressui textMux prints
 * it: `#N name`, `#N 0.088 output`, `#N DONE 0.4s`, a blank line between
 * vertices, and `#N ...` when a running vertex loses the output to another.
 */
import { isCanceled, seconds, type Trace, type VertexState } from './trace.js';

/** A vertex that has waited this long for the output gets it (BuildKit's maxDelay). */
const MAX_DELAY_MS = 10_000;
/** The current vertex keeps the output for at least this long, scaled by its share (antiFlicker). */
const ANTI_FLICKER_MS = 5_000;
/** A waiting vertex with this many unprinted lines gets the output, so that memory stays bounded. */
const MAX_PENDING_LINES = 1000;

/** Writes plain progress text for a trace; `print()` after every change. */
export class PlainPrinter {
  private current: VertexState | undefined;
  private notFirst = false;

  constructor(private readonly trace: Trace, private readonly write: (s: string) => void, private readonly now: () => number) {}

  /** Prints what is due: finished vertices first, then the vertex that holds the output. */
  print(): void {
    const completed: VertexState[] = [];
    const rest: VertexState[] = [];
    for (const v of this.trace.updates) (v.completed !== undefined ? completed : rest).push(v);
    completed.sort((a, b) => (a.completed ?? 0) - (b.completed ?? 0));
    const cur = this.current;
    if (cur && completed.includes(cur)) this.printVertex(cur);
    for (const v of completed) if (v !== cur) this.printVertex(v);
    if (rest.length === 0) {
      if (cur && cur.completed === undefined) return;
      const open = this.trace.vertices.find((v) => v.completed === undefined);
      if (open) this.printVertex(open);
      return;
    }
    if (cur && rest.includes(cur)) this.printVertex(cur);
    this.switchIfDue(cur, rest);
  }

  /** Prints everything still unprinted (the build is over). */
  flush(): void {
    this.print();
    for (const v of [...this.trace.updates]) if (this.trace.updates.has(v)) this.printVertex(v);
  }

  /** BuildKit's fair split: give the output to the busiest waiting vertex when the current one has had its share. */
  private switchIfDue(cur: VertexState | undefined, rest: VertexState[]): void {
    const now = this.now();
    const candidates = cur && cur.completed === undefined && !rest.includes(cur) ? [...rest, cur] : rest;
    const stats = new Map<VertexState, { block: number; speed: number; over: boolean }>();
    let sum = 0;
    let max: VertexState | undefined;
    for (const v of candidates) {
      const block = Math.max(1, now - v.lastBlock);
      const speed = v.count / (block / 1000);
      const over = v !== cur && (block > MAX_DELAY_MS || v.pending.length > MAX_PENDING_LINES);
      stats.set(v, { block, speed, over });
      sum += speed;
      if (over || !max || (stats.get(max)?.speed ?? 0) < speed) max = v;
    }
    if (!max) return;
    if (!cur || cur.completed !== undefined) {
      this.printVertex(max);
      return;
    }
    const hidden = rest.find((v) => stats.get(v)?.over);
    if (hidden) {
      this.printVertex(hidden);
      return;
    }
    const mine = stats.get(cur);
    if (mine && (1 / (1 - mine.speed / sum)) * ANTI_FLICKER_MS < mine.block) this.printVertex(max);
  }

  private printVertex(v: VertexState): void {
    let out = '';
    if (v !== this.current) {
      if (this.current) {
        out += `#${this.current.id} ...\n`;
        this.current.count = 0;
      }
      if (this.notFirst) out += '\n';
      this.notFirst = true;
      out += `#${v.id} ${v.name}\n`;
    }
    for (const line of v.pending) out += `#${v.id} ${line}\n`;
    v.pending = [];
    this.current = v;
    if (v.completed !== undefined) {
      this.current = undefined;
      v.count = 0;
      out += `#${v.id} ${this.endLine(v)}\n`;
    }
    this.trace.updates.delete(v);
    this.write(out);
  }

  private endLine(v: VertexState): string {
    if (v.error !== undefined) return isCanceled(v) ? 'CANCELED' : `ERROR: ${v.error}`;
    if (v.cached) return 'CACHED';
    return `DONE ${seconds((v.completed ?? v.started) - v.started)}`;
  }
}

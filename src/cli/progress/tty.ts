/**
 * Interactive progress (`--progress=tty`), as BuildKit's progressui draws it:
 * a `[+] Building 1.2s (7/7) FINISHED` header, one ` => name   0.0s` line per
 * vertex and sub-step with the duration right-aligned to the terminal width,
 * the running steps' last output lines as ` => => # text`, redrawn in place.
 */
import { TERM_HEIGHT, goFixed, isCanceled, type Trace, type VertexState } from './trace.js';

const ESC = '\x1b[';
const BLUE = `${ESC}34m`;
const RED = `${ESC}31m`;
const YELLOW = `${ESC}33m`;
const FAINT = `${ESC}2m`;
const RESET = `${ESC}0m`;
const HIDE_CURSOR = `${ESC}?25l`;
const SHOW_CURSOR = `${ESC}?25h`;
/** Columns the terminal view of a step leaves free (BuildKit's termPad). */
const TERM_PAD = 10;

interface Job {
  name: string;
  start: number;
  stop: number | undefined;
  error: boolean;
  canceled: boolean;
  vertex: VertexState | undefined;
  showTerm: boolean;
}

/** The size of the terminal; BuildKit falls back to 80x10 when it is unknown. */
export interface TermSize {
  width: number;
  height: number;
}

/** Draws frames of a trace; each frame moves the cursor back over the previous one. */
export class TtyDisplay {
  private lineCount = 0;
  private repeated = false;

  constructor(private readonly trace: Trace, private readonly phase = 'Building') {}

  /** One frame; `all` (the final frame) lists every step and may say FINISHED. */
  frame(now: number, size: TermSize, all: boolean): string {
    const { width, height } = size;
    let out = `${ESC}1A`.repeat(this.lineCount + 1) + (this.repeated ? '' : `${ESC}1B`) + `${ESC}0G`;
    this.repeated = true;
    out += HIDE_CURSOR + this.header(now, width, all);
    let lineCount = 0;
    for (const j of this.layout(this.jobs(), height, all)) {
      const line = this.jobLine(j, now, width);
      if (line === undefined) continue;
      out += line;
      lineCount++;
      if (j.showTerm && j.vertex) {
        for (const l of j.vertex.tail) {
          if (l.trim() === '') continue;
          out += `${FAINT} => => # ${fit(l, Math.max(1, width - TERM_PAD))}\n${RESET}`;
          lineCount++;
        }
        j.vertex.termCount++;
      }
    }
    const diff = this.lineCount - lineCount;
    if (diff > 0) out += `${' '.repeat(width)}\n`.repeat(diff) + `${ESC}${diff}A${ESC}0G`;
    this.lineCount = lineCount;
    return out + SHOW_CURSOR;
  }

  private header(now: number, width: number, all: boolean): string {
    const vs = this.trace.vertices;
    const done = vs.filter((v) => v.completed !== undefined).length;
    const status = all && done > 0 && done === vs.length ? 'FINISHED' : '';
    const elapsed = goFixed(Math.max(0, now - (this.trace.startTime ?? now)) / 1000, 1);
    const text = align(`[+] ${this.phase} ${elapsed}s (${done}/${vs.length}) ${status}`, '', width);
    return `${text.length > width ? text.slice(0, width) : text}\n`;
  }

  private jobs(): Job[] {
    const jobs: Job[] = [];
    for (const v of this.trace.vertices) {
      let name = v.name;
      if (v.error !== undefined) name = `${isCanceled(v) ? 'CANCELED' : 'ERROR'} ${name}`;
      if (v.cached) name = `CACHED ${name}`;
      jobs.push({ name, start: v.started, stop: v.completed, error: v.error !== undefined && !isCanceled(v), canceled: isCanceled(v), vertex: v, showTerm: false });
      for (const s of v.statuses) {
        jobs.push({ name: `=> ${s}`, start: 0, stop: 0, error: false, canceled: false, vertex: undefined, showTerm: false });
      }
    }
    return jobs;
  }

  /** BuildKit's setupTerminals + wrapHeight: which steps show their output, which lines fit. */
  private layout(jobs: Job[], height: number, all: boolean): Job[] {
    const running = jobs.filter((j) => j.stop === undefined);
    const candidates = running.filter((j) => (j.vertex?.outBytes ?? 0) > 0);
    const weight = (j: Job): number => (j.vertex?.outBytes ?? 0) + (j.vertex?.termCount ?? 0) * 50;
    candidates.sort((a, b) => weight(b) - weight(a));
    let free = height - 2 - running.length;
    let hide = 0;
    const limit = TERM_HEIGHT + 3;
    for (let i = 0; free > limit && i < candidates.length; i++) {
      const c = candidates[i] as Job;
      c.showTerm = true;
      hide += c.vertex?.tail.filter((l) => l.trim() !== '').length ?? 0;
      free -= limit;
    }
    return all ? jobs : wrapHeight(jobs, height - 2 - hide);
  }

  private jobLine(j: Job, now: number, width: number): string | undefined {
    let dt = ((j.stop ?? now) - j.start) / 1000;
    if (dt < 0.05) dt = 0;
    const pfx = ' => ';
    const timer = ` ${goFixed(dt, 1)}s\n`;
    const left = width - pfx.length - timer.length - 1;
    if (left < 12) return undefined; // too narrow to show progress
    const line = align(pfx + j.name.slice(0, left), timer, width);
    if (j.stop === undefined) return line;
    const color = j.canceled ? YELLOW : j.error ? RED : BLUE;
    return color + line + RESET;
  }
}

/** `l` padded to `w - len(r) - 1` columns, a space, then `r` (Go's `%-*s %s`). */
function align(l: string, r: string, w: number): string {
  return `${l.padEnd(w - r.length - 1)} ${r}`;
}

/** A line of output cut or padded to `w` columns, control characters dropped (a stand-in for BuildKit's vt100). */
function fit(line: string, w: number): string {
  const clean = line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x00-\x1f\x7f]/g, '');
  return clean.slice(0, w).padEnd(w);
}

/** Keeps the last `limit` jobs, bringing back running ones that were cut off (BuildKit's wrapHeight). */
function wrapHeight(jobs: Job[], limit: number): Job[] {
  if (limit < 0) return [];
  if (jobs.length <= limit) return jobs;
  let wrapped = jobs.slice(jobs.length - limit);
  const invisible = jobs.slice(0, jobs.length - limit).filter((j) => j.stop === undefined);
  if (invisible.length > 0) {
    let l = invisible.length;
    const rewrapped: Job[] = [];
    for (const j of wrapped) {
      if (j.stop === undefined || l <= 0) rewrapped.push(j);
      l--;
    }
    const freespace = wrapped.length - rewrapped.length;
    wrapped = [...invisible.slice(invisible.length - freespace), ...rewrapped];
  }
  return wrapped;
}

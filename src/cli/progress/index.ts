/**
 * The build progress display (`--progress`), printing build events the way
 * BuildKit's progressui does: `plain` text for logs and CI, an in-place
 * `tty` display for terminals, `rawjson` for programs, or nothing (`quiet`).
 */
import type { Writable } from 'node:stream';
import type { BuildEvent, BuildReporter } from '../../build/events.js';
import { PlainPrinter } from './plain.js';
import { RawJsonEncoder } from './rawjson.js';
import { errorSummary, warningSummary } from './summary.js';
import { Trace } from './trace.js';
import { TtyDisplay, type TermSize } from './tty.js';

/** `--progress` values; `auto` is `tty` when the output is a terminal, else `plain`. */
export type ProgressMode = 'auto' | 'plain' | 'tty' | 'quiet' | 'rawjson';

/** Where progress goes (process.stderr in the CLI); `columns`/`rows` size the tty display. */
export type ProgressOutput = Writable & { isTTY?: boolean; columns?: number; rows?: number };

/** Options of {@link createProgressRenderer}. */
export interface ProgressRendererOptions {
  /** Display mode; default `auto`. */
  mode?: ProgressMode;
  out: ProgressOutput;
  /** Clock in ms (default Date.now); also used to time log lines and redraws. */
  now?: () => number;
}

/** A progress display: feed `reporter` the build's events, then call `finish` once. */
export interface ProgressRenderer {
  reporter: BuildReporter;
  /**
   * Ends the display: prints what is left (plain), the final frame (tty),
   * the failed steps' summary and the warnings; `ok: false` marks steps still
   * running as canceled. Resolves once the output has been written.
   */
  finish(ok: boolean): Promise<void>;
}

/** Redraws of the tty display are at most this often (BuildKit's displayTimeout). */
const REDRAW_MS = 100;
/** The tty display is refreshed this often while nothing happens, and plain mode re-checks waiting steps. */
const TICK_MS = 150;

/** Creates a progress display writing to `out` in the given mode. */
export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  // `quiet` never touches `out` (it may be a getter that makes process.stderr).
  if (options.mode === 'quiet') return { reporter: () => undefined, finish: () => Promise.resolve() };
  const { out } = options;
  const now = options.now ?? Date.now;
  const requested = options.mode ?? 'auto';
  const mode = requested === 'auto' ? (out.isTTY ? 'tty' : 'plain') : requested;
  const write = (s: string): void => {
    if (s !== '') out.write(s);
  };
  const ended = (): Promise<void> => new Promise((resolve) => out.write('', () => resolve()));
  if (mode === 'rawjson') return rawJsonRenderer(write, now, ended);
  if (mode === 'plain') return plainRenderer(write, now, ended);
  return ttyRenderer(out, write, now, ended);
}

type Write = (s: string) => void;

function rawJsonRenderer(write: Write, now: () => number, ended: () => Promise<void>): ProgressRenderer {
  const enc = new RawJsonEncoder();
  return {
    reporter: (ev) => {
      const line = enc.encode(ev, now());
      if (line !== undefined) write(`${line}\n`);
    },
    finish: ended,
  };
}

function plainRenderer(write: Write, now: () => number, ended: () => Promise<void>): ProgressRenderer {
  const trace = new Trace({ plain: true });
  const printer = new PlainPrinter(trace, write, now);
  let finished = false;
  const ticker = setInterval(() => {
    if (trace.updates.size > 0) printer.print();
  }, TICK_MS);
  ticker.unref();
  return {
    reporter: (ev: BuildEvent) => {
      if (finished) return;
      if (trace.apply(ev, now())) printer.print();
    },
    finish: async (ok) => {
      if (!finished) {
        finished = true;
        clearInterval(ticker);
        if (!ok) trace.cancelRunning(now());
        printer.flush();
        write(errorSummary(trace) + warningSummary(trace.warnings, false));
      }
      await ended();
    },
  };
}

function ttyRenderer(out: ProgressOutput, write: Write, now: () => number, ended: () => Promise<void>): ProgressRenderer {
  const trace = new Trace({ plain: false });
  const display = new TtyDisplay(trace);
  const size = (): TermSize => {
    const width = out.columns ?? 0;
    const height = out.rows ?? 0;
    return width > 0 && height > 0 ? { width, height } : width > 0 ? { width, height: 10 } : { width: 80, height: 10 };
  };
  let finished = false;
  let lastDraw = -Infinity;
  let pending: NodeJS.Timeout | undefined;
  const draw = (): void => {
    if (finished) return;
    lastDraw = now();
    write(display.frame(lastDraw, size(), false));
  };
  const ticker = setInterval(draw, TICK_MS);
  ticker.unref();
  return {
    reporter: (ev: BuildEvent) => {
      if (finished) return;
      trace.apply(ev, now());
      const wait = lastDraw + REDRAW_MS - now();
      if (wait <= 0) draw();
      else if (!pending) {
        pending = setTimeout(() => {
          pending = undefined;
          draw();
        }, wait);
        pending.unref();
      }
    },
    finish: async (ok) => {
      if (!finished) {
        if (!ok) trace.cancelRunning(now());
        write(display.frame(now(), size(), true));
        finished = true;
        clearInterval(ticker);
        if (pending) clearTimeout(pending);
        write(errorSummary(trace) + warningSummary(trace.warnings, true));
      }
      await ended();
    },
  };
}

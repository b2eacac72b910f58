/** A fake clock, an output sink and a small event script for the progress display tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { BuildEvent } from '../../../src/build/events.js';
import { createProgressRenderer, type ProgressMode, type ProgressRenderer } from '../../../src/cli/progress/index.js';
import { REPO } from '../../helpers/cli.js';

/** Collects everything written; looks like a terminal when asked to. */
export class Sink extends Writable {
  text = '';
  writes = 0;
  isTTY?: boolean;
  columns?: number;
  rows?: number;

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.text += chunk.toString();
    if (chunk.length > 0) this.writes++;
    cb();
  }
}

/** A renderer on a sink with a fake clock, and verbs that feed it events at the clock's time. */
export class Run {
  t = 1_700_000_000_000;
  readonly out = new Sink();
  readonly r: ProgressRenderer;

  constructor(mode: ProgressMode, tty?: { columns?: number; rows?: number; isTTY?: boolean }) {
    Object.assign(this.out, tty ?? {});
    this.r = createProgressRenderer({ mode, out: this.out, now: () => this.t });
  }

  wait(ms: number): this { this.t += ms; return this; }
  emit(ev: BuildEvent): this { this.r.reporter(ev); return this; }
  start(id: number, name: string): this { return this.emit({ type: 'start', id, name, at: this.t }); }
  log(id: number, text: string): this { return this.emit({ type: 'log', id, text }); }
  cached(id: number): this { return this.emit({ type: 'cached', id }); }
  done(id: number): this { return this.emit({ type: 'done', id, at: this.t }); }
  fail(id: number, message: string): this { return this.emit({ type: 'error', id, at: this.t, message }); }
  warn(text: string): this { return this.emit({ type: 'warning', text }); }

  /** Finishes and returns all output. */
  async finish(ok: boolean): Promise<string> {
    await this.r.finish(ok);
    return this.out.text;
  }
}

/** A file of test/cli/progress/fixtures. */
export function capture(name: string): string {
  return readFileSync(join(REPO, 'test', 'cli', 'progress', 'fixtures', name), 'utf8');
}

/** Removes ANSI escape sequences and carriage returns. */
export function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

/** The last frame of a tty recording (after the last cursor hide), plus what follows it, without escapes. */
export function lastFrame(recording: string): string {
  let body = recording.slice(recording.lastIndexOf('\x1b[?25l'));
  const end = body.indexOf('\nScript done');
  if (end >= 0) body = body.slice(0, end);
  return stripAnsi(body);
}

/** What a build reports while it runs (rendered by the CLI's progress display). */

/** One progress event. `id` numbers vertices as BuildKit's `#N`. */
export type BuildEvent =
  | { type: 'start'; id: number; name: string; at: number }
  | { type: 'log'; id: number; text: string }
  | { type: 'cached'; id: number }
  | { type: 'done'; id: number; at: number }
  | { type: 'error'; id: number; at: number; message: string }
  | { type: 'warning'; text: string };

/** Receives build events. */
export type BuildReporter = (event: BuildEvent) => void;

/** Numbers vertices and times them; wraps a reporter. */
export class Progress {
  private next = 1;

  constructor(private readonly report: BuildReporter) {}

  /** Starts a vertex; returns its handle. */
  start(name: string): Vertex {
    const id = this.next++;
    this.report({ type: 'start', id, name, at: Date.now() });
    return new Vertex(id, this.report);
  }

  /** Emits a warning line. */
  warn(text: string): void {
    this.report({ type: 'warning', text });
  }
}

/** A running step. */
export class Vertex {
  constructor(readonly id: number, private readonly report: BuildReporter) {}

  /** A line of the step's output. */
  log(text: string): void {
    this.report({ type: 'log', id: this.id, text });
  }

  /** The step was satisfied from the cache. */
  cached(): void {
    this.report({ type: 'cached', id: this.id });
  }

  /** The step finished. */
  done(): void {
    this.report({ type: 'done', id: this.id, at: Date.now() });
  }

  /** The step failed. */
  fail(message: string): void {
    this.report({ type: 'error', id: this.id, at: Date.now(), message });
  }
}

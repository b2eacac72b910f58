/** What every command receives: where the store is and where to write. */
import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { isErrno } from '../errors.js';
import { ImageStore } from '../store/image-store.js';
import { storeRoot } from '../store/root.js';

/** The environment of one CLI invocation. */
export interface CliContext {
  /** The store root (--root, SLIPWAY_ROOT or the default). */
  root: string;
  stdout: Writable & { isTTY?: boolean };
  /**
   * Writes text to standard output and resolves once the OS has it. While
   * nothing has taken `stdout` as a stream, this writes to fd 1 directly:
   * making process.stdout for a pipe or terminal costs ~6 ms of start-up
   * (it loads net and stream). After a broken pipe, output is dropped.
   */
  out(text: string): Promise<void>;
  stderr: Writable;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** The time commands treat as now. */
  now: () => Date;
  /** The store, opened on first use. */
  store(): ImageStore;
  /** The command being run, e.g. 'slipway image inspect' (set by the program). */
  commandPath: string;
}

/** Options of createContext. */
export interface ContextOptions {
  root?: string | undefined;
  stdout?: CliContext['stdout'];
  stderr?: Writable;
  stdin?: CliContext['stdin'];
}

/** Creates the context for one invocation. */
export function createContext(options: ContextOptions = {}): CliContext {
  const root = storeRoot({ flag: options.root });
  let store: ImageStore | undefined;
  let streamTaken = options.stdout !== undefined;
  let broken = false;
  const ctx: CliContext = {
    root,
    // process.stdout is a getter that makes the stream: only when a command needs a stream.
    get stdout() {
      if (!streamTaken && options.stdout === undefined) process.stdout.on('error', quietOnBrokenPipe);
      streamTaken = true;
      return options.stdout ?? process.stdout;
    },
    out(text: string): Promise<void> {
      if (streamTaken) return write(ctx.stdout, text);
      if (broken) return Promise.resolve();
      const rest = writeFd1(text);
      if (rest === 'broken') broken = true;
      else if (rest !== undefined) return write(ctx.stdout, rest);
      return Promise.resolve();
    },
    get stderr() { return options.stderr ?? process.stderr; },
    // process.stdin is a getter that opens the stream (tty, pipe or file): only when a command reads it.
    get stdin() { return options.stdin ?? process.stdin; },
    now: () => new Date(),
    store: () => (store ??= new ImageStore(root)),
    commandPath: 'slipway',
  };
  return ctx;
}

/** A reader that went away (`slipway images | head -1`) ends the command quietly, as docker's output does. */
function quietOnBrokenPipe(err: NodeJS.ErrnoException): void {
  // eslint-disable-next-line no-restricted-properties -- the CLI's own stdout, as main.ts did before the stream became lazy
  if (err.code === 'EPIPE') process.exit(0);
}

/** Writes text to fd 1; returns what is left when the fd would block, 'broken' on EPIPE. */
function writeFd1(text: string): Buffer | 'broken' | undefined {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(1, buf, off);
  } catch (err) {
    if (isErrno(err, 'EAGAIN')) return buf.subarray(off);
    if (isErrno(err, 'EPIPE')) return 'broken';
    throw err;
  }
  return undefined;
}

/** Writes text to a stream and waits until it is flushed to the OS. */
export function write(stream: Writable, text: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

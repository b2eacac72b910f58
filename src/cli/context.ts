/** What every command receives: where the store is and where to write. */
import type { Writable } from 'node:stream';
import { ImageStore } from '../store/image-store.js';
import { storeRoot } from '../store/root.js';

/** The environment of one CLI invocation. */
export interface CliContext {
  /** The store root (--root, SLIPWAY_ROOT or the default). */
  root: string;
  stdout: Writable & { isTTY?: boolean };
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
  return {
    root,
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    // process.stdin is a getter that opens the stream (tty, pipe or file): only when a command reads it.
    get stdin() { return options.stdin ?? process.stdin; },
    now: () => new Date(),
    store: () => (store ??= new ImageStore(root)),
    commandPath: 'slipway',
  };
}

/** Writes text to a stream and waits until it is flushed to the OS. */
export function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

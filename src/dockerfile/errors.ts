/**
 * Positioned Dockerfile errors and the "did you mean" helper.
 */
import { SlipwayError } from '../errors.js';

/**
 * A Dockerfile parse or validation error. Always has code 'DOCKERFILE'; the
 * message reads `<file>:<line>: <what is wrong>` like BuildKit's, and the
 * 1-based `line` (0 when no line applies, e.g. an unknown --target) and
 * `fileName` are kept as properties.
 */
export class DockerfileError extends SlipwayError {
  readonly line: number;
  readonly endLine: number;
  readonly fileName: string;
  /** The message without the `file:line:` prefix. */
  readonly detail: string;

  constructor(opts: { fileName: string; line: number; endLine?: number; detail: string; cause?: unknown }) {
    const where = opts.line > 0 ? `${opts.fileName}:${opts.line}: ` : `${opts.fileName}: `;
    super('DOCKERFILE', where + opts.detail, opts.cause === undefined ? {} : { cause: opts.cause });
    this.line = opts.line;
    this.endLine = opts.endLine ?? opts.line;
    this.fileName = opts.fileName;
    this.detail = opts.detail;
  }
}

/**
 * An error without a position yet (thrown by low-level helpers such as the
 * shell lexer or flag parser); the caller that knows the line converts it
 * with `positioned`.
 */
export class UnpositionedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnpositionedError';
  }
}

/** Converts any UnpositionedError (or DockerfileError) into a DockerfileError at `line`. */
export function positioned(err: unknown, fileName: string, line: number, endLine?: number): DockerfileError {
  if (err instanceof DockerfileError) return err;
  if (err instanceof UnpositionedError) {
    return new DockerfileError({ fileName, line, endLine: endLine ?? line, detail: err.message });
  }
  throw err;
}

/** Runs `fn`, turning an UnpositionedError it throws into a DockerfileError at `line`. */
export function atLine<T>(fileName: string, line: number, endLine: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw positioned(err, fileName, line, endLine);
  }
}

function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1);
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The closest of `options` to `value` (as BuildKit's util/suggest does: a
 * small edit distance relative to the length), or undefined when none is
 * close enough.
 */
export function suggest(value: string, options: readonly string[], caseSensitive = false): string | undefined {
  const v = caseSensitive ? value : value.toLowerCase();
  if (v === '') return undefined;
  const maxDist = Math.max(1, Math.min(3, Math.floor(v.length / 3) + 1));
  let best: string | undefined;
  let bestDist = Infinity;
  for (const opt of options) {
    const o = caseSensitive ? opt : opt.toLowerCase();
    if (o === v) return undefined;
    const d = levenshtein(v, o);
    if (d < bestDist) {
      bestDist = d;
      best = opt;
    }
  }
  return bestDist <= maxDist ? best : undefined;
}

/** `msg` followed by ` (did you mean X?)` when a suggestion exists. */
export function withSuggestion(msg: string, value: string, options: readonly string[], caseSensitive = false): string {
  const s = suggest(value, options, caseSensitive);
  return s === undefined ? msg : `${msg} (did you mean ${s}?)`;
}

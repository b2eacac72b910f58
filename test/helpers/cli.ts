/**
 * Running the bundled CLI (the npm bin `dist/slipway`) against a temporary store,
 * reading the recorded Docker reference outputs, and normalising what differs
 * between runs (relative times, row order Docker leaves unspecified).
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, type TestContext } from 'node:test';
import { tempDir } from './tmp.js';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'fixtures'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** The repository root (where package.json and test/fixtures are). */
export const REPO = findRepoRoot();
/**
 * The CLI as users run it: the npm bin `dist/slipway` (a shell launcher of
 * dist/slipway.js). SLIPWAY_TEST_CLI overrides it, e.g. a private copy while
 * others rebuild dist/; a `.js` file there is run with this Node.
 */
export const CLI = process.env.SLIPWAY_TEST_CLI ?? join(REPO, 'dist', 'slipway');

/** The program and arguments that run the CLI with `args`. */
export function cliCommand(args: string[]): [string, string[]] {
  return CLI.endsWith('.js') ? [process.execPath, [CLI, ...args]] : [CLI, args];
}
/** test/fixtures in the repository. */
export const FIXTURES = join(REPO, 'test', 'fixtures');

/** A fixture archive's path: fixture('docker-save-single.tar'). */
export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** What one CLI run produced. */
export interface CliResult {
  stdout: string;
  stderr: string;
  status: number;
  /** stdout as bytes (for `save` to stdout). */
  stdoutBytes: Buffer;
}

/** Options of slipway(). */
export interface RunOptions {
  /** The store root (passed as --root). */
  root: string;
  /** Bytes, or a file path given as { file }, piped to stdin. Default: no stdin (closed). */
  stdin?: Buffer | string | { file: string };
  env?: Record<string, string>;
  cwd?: string;
}

/** Runs `slipway --root ROOT ...args` and collects its output. */
export function slipway(args: string[], options: RunOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(...cliCommand(['--root', options.root, ...args]), {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, TZ: 'UTC', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), status: code ?? (signal ? 128 : 1), stdoutBytes });
    });
    const input = options.stdin;
    if (input === undefined) child.stdin.end();
    else if (typeof input === 'object' && !Buffer.isBuffer(input)) createReadStream(input.file).pipe(child.stdin);
    else child.stdin.end(input);
  });
}

/** A store bound to one root: run(args, stdin?) for short calls. */
export interface Store {
  root: string;
  run(args: string[], stdin?: RunOptions['stdin']): Promise<CliResult>;
  /** Runs and asserts exit 0, returning stdout (throws with stderr otherwise). */
  ok(args: string[], stdin?: RunOptions['stdin']): Promise<string>;
}

function bind(root: string): Store {
  const run = (args: string[], stdin?: RunOptions['stdin']) => slipway(args, { root, ...(stdin === undefined ? {} : { stdin }) });
  return {
    root,
    run,
    async ok(args, stdin) {
      const r = await run(args, stdin);
      if (r.status !== 0) throw new Error(`slipway ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      return r.stdout;
    },
  };
}

/** A fresh empty store for one test (removed afterwards). */
export async function tempStore(t: TestContext): Promise<Store> {
  return bind(join(await tempDir(t, 'slipway-cli-'), 'root'));
}

/**
 * A fresh store for a describe block, removed by an after() hook of that
 * block. Call it in the describe body itself (not in a hook: an after()
 * registered inside before() runs right after it).
 */
export function suiteStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
  after(() => rm(dir, { recursive: true, force: true }));
  return bind(join(dir, 'root'));
}

/** A store with the given fixture archives loaded (in order). */
export async function loadedStore(store: Store, archives: string[]): Promise<Store> {
  for (const a of archives) await store.ok(['load', '-i', fixture(a)]);
  return store;
}

/** One recorded reference output. */
export interface Reference {
  /** The command line after `# $ `. */
  command: string;
  stdout: string;
  stderr: string;
  exit: number;
}

/** Reads test/fixtures/reference/NAME (NAME without .txt accepted). */
export function reference(name: string): Reference {
  const text = readFileSync(join(FIXTURES, 'reference', name.endsWith('.txt') ? name : `${name}.txt`), 'utf8');
  const lines = text.split('\n');
  const first = lines.shift() ?? '';
  if (!first.startsWith('# $ ')) throw new Error(`${name}: no command line`);
  const out: string[] = [];
  const err: string[] = [];
  let target = out;
  let exit = -1;
  let noNewline = { out: false, err: false };
  for (const line of lines) {
    if (line === '# [stderr]') target = err;
    else if (line === '# [no newline at end]') noNewline = target === out ? { ...noNewline, out: true } : { ...noNewline, err: true };
    else if (/^# \[exit \d+\]$/.test(line)) exit = Number(/\d+/.exec(line)?.[0]);
    else if (exit === -1) target.push(line);
  }
  const join_ = (ls: string[], noNl: boolean) => (ls.length === 0 ? '' : `${ls.join('\n')}${noNl ? '' : '\n'}`);
  return { command: first.slice(4), stdout: join_(out, noNewline.out), stderr: join_(err, noNewline.err), exit };
}

/** Docker's "Error response from daemon: X" as slipway prints it ("Error: X"), `docker` -> `slipway` in usage texts. */
export function asSlipway(text: string): string {
  return text.replace(/^Error response from daemon: /gm, 'Error: ').replace(/\bdocker\b(?=[: '])/g, 'slipway');
}

/** A table split into rows of cells, using the header's column positions. */
export interface Table {
  headers: string[];
  rows: string[][];
}

/** Splits tabwriter output into cells (columns start where header words start). */
export function parseTable(text: string): Table {
  const lines = text.split('\n').filter((l) => l !== '');
  const header = lines.shift() ?? '';
  const cols = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], start: m.index }));
  const rows = lines.map((line) => {
    const chars = Array.from(line);
    return cols.map((c, i) => chars.slice(c.start, cols[i + 1]?.start ?? chars.length).join('').trim());
  });
  return { headers: cols.map((c) => c.name), rows };
}

/** Renders cells as Go's tabwriter (minwidth 10, padding 3) does for docker/cli tables. */
export function renderTable(t: Table): string {
  const all = [t.headers, ...t.rows];
  const widths = t.headers.map((_, i) => Math.max(10, ...all.map((r) => Array.from(r[i] ?? '').length + 3)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - Array.from(c).length))).join('')).join('\n') + '\n';
}

/** Options of normaliseTable. */
export interface NormaliseOptions {
  /** Column headers whose values depend on the time of the run (default CREATED, LAST USED). */
  timeColumns?: string[];
  /** Keep only rows for which this returns true. */
  keep?: (row: Record<string, string>) => boolean;
  /** Sort rows by this key (stable): for rows whose order Docker leaves unspecified. */
  sortKey?: (row: Record<string, string>) => string;
}

/** Re-renders a table with time columns replaced by `<time>`, rows filtered and ordered: comparable across runs. */
export function normaliseTable(text: string, options: NormaliseOptions = {}): string {
  const t = parseTable(text);
  const times = new Set(options.timeColumns ?? ['CREATED', 'LAST USED']);
  const obj = (r: string[]) => Object.fromEntries(t.headers.map((h, i) => [h, r[i] ?? '']));
  let rows = t.rows.map((r) => r.map((c, i) => (times.has(t.headers[i] ?? '') && c !== '' ? '<time>' : c)));
  if (options.keep) rows = rows.filter((r) => options.keep?.(obj(r)));
  if (options.sortKey) {
    const key = options.sortKey;
    rows = rows.map((r, i) => ({ r, i, k: key(obj(r)) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i)).map((x) => x.r);
  }
  return renderTable({ headers: t.headers, rows });
}

/** Replaces relative times ("4 minutes ago", "About an hour ago") in free text. */
export function maskTimes(text: string): string {
  return text.replace(/(About an? \w+|Less than a second|\d+ \w+) ago/g, '<time>');
}

/** Every file under the store root (relative path and size; directories and lock files left out): a store fingerprint. */
export async function storeListing(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        await walk(p);
      } else if (!/(^|\/)[^/]*lock[^/]*$/.test(relative(root, p))) {
        out.push(`${relative(root, p)} ${(await stat(p)).size}`);
      }
    }
  }
  await walk(root);
  return out.sort();
}

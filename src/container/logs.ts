/**
 * Container logs in Docker's json-file format: one JSON object per line,
 * `{"log":"text\n","stream":"stdout","time":"2026-11-23T09:37:26.123456789Z"}`,
 * a line per entry (partial lines are written when the stream ends or a
 * line passes 16 KiB, as Docker's log copier does).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';

/** One log entry. */
export interface LogEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

const MAX_LINE = 16 * 1024;
const origin = { ms: Date.now(), hr: process.hrtime.bigint() };

/** The current time as RFC 3339 with nanoseconds (trailing zeros dropped, as Go's RFC3339Nano). */
export function nowNano(): string {
  const ns = origin.hr === 0n ? 0n : process.hrtime.bigint() - origin.hr + BigInt(origin.ms) * 1_000_000n;
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${new Date(ms).toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

/** Writes a container's output as json-file entries, line by line. */
export class LogWriter {
  private readonly out: WriteStream;
  private readonly partial = { stdout: '', stderr: '' };

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'a', mode: 0o640 });
    this.out.on('error', () => undefined);
  }

  /** Adds a chunk of one stream. */
  write(chunk: Buffer, stream: 'stdout' | 'stderr'): void {
    let text = this.partial[stream] + chunk.toString('utf8');
    for (let nl = text.indexOf('\n'); nl >= 0 || text.length >= MAX_LINE; nl = text.indexOf('\n')) {
      const end = nl >= 0 && nl < MAX_LINE ? nl + 1 : MAX_LINE;
      this.entry(text.slice(0, end), stream);
      text = text.slice(end);
    }
    this.partial[stream] = text;
  }

  private entry(log: string, stream: 'stdout' | 'stderr'): void {
    this.out.write(`${JSON.stringify({ log, stream, time: nowNano() })}\n`);
  }

  /** Writes partial lines and closes the file. */
  close(): Promise<void> {
    for (const s of ['stdout', 'stderr'] as const) if (this.partial[s]) this.entry(this.partial[s], s);
    return new Promise((resolve) => this.out.end(resolve));
  }
}

/** Parses json-file text (a torn last line is skipped). */
export function parseLog(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as LogEntry);
    } catch {
      // a line being written
    }
  }
  return out;
}

/** Docker's fixed-width RFC3339Nano for `logs -t` (9 fractional digits). */
export function fixedNano(time: string): string {
  const m = /^(.{19})(?:\.(\d+))?Z$/.exec(time);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z` : time;
}

/** Options of readLogs. */
export interface ReadLogsOptions {
  /** Only the last N entries (undefined: all). */
  tail?: number;
  timestamps?: boolean;
  /** Keep reading while this returns true (`-f`); polled every 100 ms. */
  follow?: () => Promise<boolean>;
  onEntry: (text: string, stream: 'stdout' | 'stderr') => Promise<void> | void;
}

/** Reads a log file (and follows it while `follow` says so). */
export async function readLogs(path: string, o: ReadLogsOptions): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const end = text.lastIndexOf('\n') + 1;
  let entries = parseLog(text.slice(0, end));
  if (o.tail !== undefined) entries = o.tail === 0 ? [] : entries.slice(-o.tail);
  const emit = async (list: LogEntry[]) => {
    for (const e of list) await o.onEntry(o.timestamps ? `${fixedNano(e.time)} ${e.log}` : e.log, e.stream);
  };
  await emit(entries);
  if (!o.follow) return;
  let offset = Buffer.byteLength(text.slice(0, end));
  for (;;) {
    const more = await o.follow();
    const size = (await stat(path).catch(() => undefined))?.size ?? 0;
    if (size > offset) {
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(size - offset);
        await fh.read(buf, 0, buf.length, offset);
        const chunk = buf.toString('utf8');
        const cut = chunk.lastIndexOf('\n') + 1;
        offset += Buffer.byteLength(chunk.slice(0, cut));
        await emit(parseLog(chunk.slice(0, cut)));
      } finally {
        await fh.close();
      }
    }
    if (!more) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

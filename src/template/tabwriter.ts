/**
 * A port of Go's text/tabwriter (elastic tabstops) for whole strings:
 * cells are terminated by '\t' (or '\v'), lines by '\n' (or '\f', which
 * also ends every column block). Column widths are computed per contiguous
 * block of lines exactly as Go does, including the flush Go performs after
 * a line without tabs. Escape sequences and HTML filtering are not supported.
 */

/** Go's tabwriter flags that are supported. */
export const TAB_ALIGN_RIGHT = 1 << 2;
/** Handle empty columns terminated by '\v' as if absent. */
export const TAB_DISCARD_EMPTY_COLUMNS = 1 << 3;
/** Use tabs for the padding of leading empty cells. */
export const TAB_INDENT = 1 << 4;
/** Print '|' between columns. */
export const TAB_DEBUG = 1 << 5;

/** tabwriter.Init parameters. */
export interface TabwriterOptions {
  minwidth: number;
  tabwidth: number;
  padding: number;
  padchar: string;
  flags?: number;
  /** Cell width measure: Go counts runes; docker's fork counts terminal columns. Default 'runes'. */
  width?: 'runes' | 'terminal';
}

/** docker/cli's table settings: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0) with East-Asian widths. */
export const DOCKER_TABLE_OPTIONS: TabwriterOptions = {
  minwidth: 10, tabwidth: 1, padding: 3, padchar: ' ', flags: 0, width: 'terminal',
};

interface Cell {
  text: string;
  width: number;
  htab: boolean;
}

const WIDE_RE = /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u;
const ZERO_RE = /[\p{Mn}\p{Me}\u200B-\u200F]/u;

/** Display width of a string in terminal columns (wide East Asian = 2, combining = 0). */
export function terminalWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    if (ZERO_RE.test(ch)) continue;
    w += WIDE_RE.test(ch) ? 2 : 1;
  }
  return w;
}

function runeWidth(s: string): number {
  let n = 0;
  for (const ch of s) { void ch; n++; }
  return n;
}

class Writer {
  private lines: Cell[][] = [[]];
  private widths: number[] = [];
  private out: string[] = [];
  private cell = '';
  private readonly measure: (s: string) => number;

  constructor(private readonly o: TabwriterOptions) {
    this.measure = o.width === 'terminal' ? terminalWidth : runeWidth;
  }

  private get flags(): number {
    return this.o.padchar === '\t' ? (this.o.flags ?? 0) & ~TAB_ALIGN_RIGHT : this.o.flags ?? 0;
  }

  write(text: string): void {
    for (const ch of text) {
      if (ch !== '\t' && ch !== '\v' && ch !== '\n' && ch !== '\f') { this.cell += ch; continue; }
      const ncells = this.terminateCell(ch === '\t');
      if (ch === '\n' || ch === '\f') {
        this.lines.push([]);
        if (ch === '\f' || ncells === 1) {
          this.flush();
          if (ch === '\f' && (this.flags & TAB_DEBUG) !== 0) this.out.push('---\n');
        }
      }
    }
  }

  private terminateCell(htab: boolean): number {
    const line = this.lines[this.lines.length - 1] as Cell[];
    line.push({ text: this.cell, width: this.measure(this.cell), htab });
    this.cell = '';
    return line.length;
  }

  /** Format everything buffered and reset; returns nothing (output accumulates). */
  flush(): void {
    if (this.cell.length > 0) this.terminateCell(false);
    this.format(0, this.lines.length);
    this.lines = [[]];
    this.widths = [];
  }

  result(): string {
    this.flush();
    return this.out.join('');
  }

  private padding(textw: number, cellw: number, useTabs: boolean): void {
    const { tabwidth } = this.o;
    if (this.o.padchar === '\t' || useTabs) {
      if (tabwidth === 0) return;
      cellw = Math.ceil(cellw / tabwidth) * tabwidth;
      const n = cellw - textw;
      this.out.push('\t'.repeat(Math.ceil(n / tabwidth)));
      return;
    }
    this.out.push(this.o.padchar.repeat(Math.max(cellw - textw, 0)));
  }

  private writeLines(line0: number, line1: number): void {
    const flags = this.flags;
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i] as Cell[];
      let useTabs = (flags & TAB_INDENT) !== 0;
      line.forEach((c, j) => {
        if (j > 0 && (flags & TAB_DEBUG) !== 0) this.out.push('|');
        const w = this.widths[j];
        if (c.text.length === 0) {
          if (w !== undefined) this.padding(c.width, w, useTabs);
          return;
        }
        useTabs = false;
        if ((flags & TAB_ALIGN_RIGHT) === 0) {
          this.out.push(c.text);
          if (w !== undefined) this.padding(c.width, w, false);
        } else {
          if (w !== undefined) this.padding(c.width, w, false);
          this.out.push(c.text);
        }
      });
      if (i + 1 === this.lines.length) this.out.push(this.cell);
      else this.out.push('\n');
    }
  }

  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= (this.lines[t] as Cell[]).length - 1) continue;
      this.writeLines(line0, t);
      line0 = t;
      let width = this.o.minwidth;
      let discardable = true;
      for (; t < line1; t++) {
        const line = this.lines[t] as Cell[];
        if (column >= line.length - 1) break;
        const c = line[column] as Cell;
        width = Math.max(width, c.width + this.o.padding);
        if (c.width > 0 || c.htab) discardable = false;
      }
      if (discardable && (this.flags & TAB_DISCARD_EMPTY_COLUMNS) !== 0) width = 0;
      this.widths.push(width);
      this.format(line0, t);
      this.widths.pop();
      line0 = t;
    }
    this.writeLines(line0, line1);
  }
}

/**
 * Run `text` through a tabwriter configured with `opts` and flush it,
 * returning the aligned text (Go's Write + Flush).
 */
export function formatTabbed(text: string, opts: TabwriterOptions): string {
  const w = new Writer(opts);
  w.write(text);
  return w.result();
}

/**
 * The Dockerfile parser: parser directives, physical lines joined by the
 * escape character, comments, heredocs, and per-instruction argument
 * splitting, following BuildKit's frontend/dockerfile/parser.
 */
import type { Directive, DockerfileNode, DockerfileWarning, Heredoc, ParseResult } from './ast.js';
import { DockerfileError, UnpositionedError, positioned } from './errors.js';
import { parseLineArgs, splitCommand } from './line-parsers.js';
import { lex } from './shell-lex.js';
import { trimLeftSpace } from './text.js';

/** Options of parseDockerfile. */
export interface ParseOptions {
  /** Name used in error messages; default `Dockerfile`. */
  fileName?: string;
}

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const HEREDOC = /^(\d*)<<(-?)([^<]*)$/;
const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_INSTRUCTIONS = new Set(['run', 'copy', 'add']);

class DirectiveState {
  done = false;
  escapeToken = '\\';
  continuation = makeContinuation('\\');
  readonly directives: Directive[] = [];

  /** Looks at one physical line (newline trimmed) while directives may still appear. */
  check(line: string, lineNo: number): void {
    if (this.done) return;
    if (!line.startsWith('#')) {
      this.done = true;
      return;
    }
    const m = DIRECTIVE.exec(trimLeftSpace(line.slice(1)));
    const key = m?.[1]?.toLowerCase();
    if (!m || key === undefined || !VALID_DIRECTIVES.has(key)) {
      this.done = true;
      return;
    }
    if (this.directives.some((d) => d.name === key)) {
      throw new UnpositionedError(`only one ${key} parser directive can be used`);
    }
    const value = m[2] ?? '';
    if (key === 'escape') {
      if (value !== '`' && value !== '\\') {
        throw new UnpositionedError(`invalid escape token '${value}' does not match \` or \\`);
      }
      this.escapeToken = value;
      this.continuation = makeContinuation(value);
    }
    this.directives.push({ name: key as Directive['name'], value, line: lineNo });
  }
}

function makeContinuation(token: string): RegExp {
  const e = token === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

function trimNewline(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === '\n' || s[end - 1] === '\r')) end--;
  return end === s.length ? s : s.slice(0, end);
}

function isComment(raw: string): boolean {
  return trimLeftSpace(trimNewline(raw)).startsWith('#');
}

/** Splits text into physical lines, each keeping its newline (bufio-style). */
function physicalLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      if (start < text.length) lines.push(text.slice(start));
      return lines;
    }
    lines.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
}

/** Parses one heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`), or undefined when it is none. */
export function parseHeredocWord(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = HEREDOC.exec(word);
  if (!m) return undefined;
  const rest = m[3] ?? '';
  if (rest === '') return undefined;
  const none = (): undefined => undefined;
  const plain = lex(rest, none, { skipUnsetEnv: true }).words;
  if (plain.length !== 1) return undefined;
  const raw = lex(rest, none, { skipUnsetEnv: true, rawQuotes: true }).words;
  const name = plain[0] ?? '';
  const quotes = (s: string): number => s.split("'").length + s.split('"').length - 2;
  return {
    name,
    fileDescriptor: Number.parseInt(m[1] || '0', 10),
    expand: quotes(name) === quotes(raw[0] ?? ''),
    chomp: m[2] === '-',
  };
}

function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = lex(line, () => undefined, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch {
    return [];
  }
  const docs: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    if (!w.includes('<<')) continue;
    const h = parseHeredocWord(w);
    if (h) docs.push(h);
  }
  return docs;
}

/** Builds the node for one logical line (no heredocs yet). */
export function nodeFromLine(line: string, escapeToken: string): DockerfileNode {
  const { cmd, flags, rest } = splitCommand(line);
  const instruction = cmd.toLowerCase();
  const node: DockerfileNode = {
    instruction,
    original: line,
    startLine: 0,
    endLine: 0,
    flags,
    rest,
    args: [],
    json: false,
    heredocs: [],
  };
  if (instruction === 'onbuild') {
    if (rest !== '') {
      const sub = nodeFromLine(rest, escapeToken);
      node.sub = sub;
      node.args = [sub.instruction, ...sub.args];
    }
    return node;
  }
  const parsed = parseLineArgs(instruction, rest, escapeToken);
  node.args = parsed.args;
  node.json = parsed.json;
  if (parsed.pairs) node.pairs = parsed.pairs;
  return node;
}

function canContainHeredoc(node: DockerfileNode): boolean {
  const n = node.instruction === 'onbuild' && node.sub ? node.sub : node;
  return HEREDOC_INSTRUCTIONS.has(n.instruction) && !n.json;
}

class Parser {
  private readonly lines: string[];
  private idx = 0;
  private currentLine = 0;
  private readonly d = new DirectiveState();
  private readonly nodes: DockerfileNode[] = [];
  private readonly warnings: DockerfileWarning[] = [];

  constructor(
    text: string,
    private readonly fileName: string,
  ) {
    this.lines = physicalLines(text.startsWith('\ufeff') ? text.slice(1) : text);
  }

  private fail(err: unknown, line: number, endLine?: number): DockerfileError {
    return positioned(err, this.fileName, line, endLine);
  }

  /** processLine: trims the newline (and leading space), checks directives, drops a comment line. */
  private processLine(raw: string, stripLeft: boolean): string {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeftSpace(token);
    try {
      this.d.check(token, this.currentLine + 1);
    } catch (err) {
      throw this.fail(err, this.currentLine + 1);
    }
    return token.startsWith('#') ? '' : token;
  }

  private trimContinuation(line: string): [string, boolean] {
    const re = this.d.continuation;
    if (re.test(line)) return [line.replace(re, '$1'), false];
    return [line, true];
  }

  run(): ParseResult {
    while (this.idx < this.lines.length) {
      const first = this.processLine(this.lines[this.idx++] ?? '', true);
      this.currentLine++;
      const startLine = this.currentLine;
      let [line, isEnd] = this.trimContinuation(first);
      if (isEnd && line === '') continue;
      let emptyContinuation = false;
      while (!isEnd && this.idx < this.lines.length) {
        const raw = this.lines[this.idx++] ?? '';
        const processed = this.processLine(raw, false);
        this.currentLine++;
        if (isComment(raw)) continue;
        if (trimLeftSpace(processed) === '') {
          emptyContinuation = true;
          continue;
        }
        let cont: string;
        [cont, isEnd] = this.trimContinuation(processed);
        line += cont;
      }
      if (emptyContinuation) {
        this.warnings.push({
          rule: 'NoEmptyContinuation',
          message: `Empty continuation line found in: ${line} (empty continuation lines will become errors in a future release)`,
          line: startLine,
        });
      }
      this.addNode(line, startLine);
    }
    if (this.nodes.length === 0) throw this.fail(new UnpositionedError('file with no instructions'), this.currentLine);
    return {
      fileName: this.fileName,
      directives: this.d.directives,
      escapeToken: this.d.escapeToken,
      nodes: this.nodes,
      warnings: this.warnings,
    };
  }

  private addNode(line: string, startLine: number): void {
    let node: DockerfileNode;
    try {
      node = nodeFromLine(line, this.d.escapeToken);
    } catch (err) {
      throw this.fail(err, startLine, this.currentLine);
    }
    if (canContainHeredoc(node) && line.includes('<<')) {
      for (const h of heredocsFromLine(line)) node.heredocs.push(this.readHeredoc(h, startLine));
    }
    node.startLine = startLine;
    node.endLine = this.currentLine;
    if (node.sub) {
      node.sub.startLine = startLine;
      node.sub.endLine = this.currentLine;
      node.sub.heredocs = node.heredocs;
    }
    this.nodes.push(node);
  }

  private readHeredoc(h: Omit<Heredoc, 'content'>, startLine: number): Heredoc {
    let content = '';
    while (this.idx < this.lines.length) {
      const raw = this.lines[this.idx++] ?? '';
      this.currentLine++;
      let candidate = trimNewline(raw);
      if (h.chomp) candidate = candidate.replace(/^\t+/, '');
      if (candidate === h.name) return { ...h, content };
      content += raw;
    }
    throw this.fail(new UnpositionedError('unterminated heredoc'), startLine, this.currentLine);
  }
}

/**
 * Parses Dockerfile text into its syntax tree, as BuildKit's parser does.
 * Unknown instructions are kept (they are rejected by `buildDefinition`).
 * Throws a DockerfileError (code DOCKERFILE, with `line`) on a syntax error.
 */
export function parseDockerfile(text: string, opts: ParseOptions = {}): ParseResult {
  return new Parser(text, opts.fileName ?? 'Dockerfile').run();
}

/** Removes leading tabs from every line of a `<<-` heredoc body. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

/**
 * The lexer of Go's text/template (parse/lex.go), producing the same items,
 * positions, lines and error texts. Positions are JS string indexes; the
 * parser converts them to Go's byte columns when it reports errors.
 */

/** Item types, as in lex.go. */
export enum T {
  Error, Bool, Char, CharConstant, Comment, Complex, Assign, Declare, EOF, Field,
  Identifier, LeftDelim, LeftParen, Number, Pipe, RawString, RightDelim, RightParen,
  Space, String, Text, Variable,
  Keyword, Block, Break, Continue, Dot, Define, Else, End, If, Nil, Range, Template, With,
}

/** A lexed token. */
export interface Item {
  typ: T;
  pos: number;
  val: string;
  line: number;
}

const KEYWORDS: Record<string, T> = {
  '.': T.Dot, block: T.Block, break: T.Break, continue: T.Continue, define: T.Define,
  else: T.Else, end: T.End, if: T.If, range: T.Range, nil: T.Nil, template: T.Template,
  with: T.With,
};

const LEFT = '{{';
const RIGHT = '}}';
const EOF = -1;

function isSpace(r: number): boolean {
  return r === 0x20 || r === 0x09 || r === 0x0d || r === 0x0a;
}

const ALNUM_RE = /^[\p{L}\p{Nd}_]$/u;

function isAlphaNumeric(r: number): boolean {
  return r >= 0 && ALNUM_RE.test(String.fromCodePoint(r));
}

function hasLeftTrimMarker(s: string, i: number): boolean {
  return s[i] === '-' && isSpace(s.charCodeAt(i + 1));
}

function hasRightTrimMarker(s: string, i: number): boolean {
  return isSpace(s.charCodeAt(i)) && s[i + 1] === '-';
}

const SPACE_CHARS = ' \t\r\n';

/** `%#U` formatting of a rune: U+007D '}'. */
export function formatRuneU(r: number): string {
  const hex = r.toString(16).toUpperCase().padStart(4, '0');
  return `U+${hex} '${String.fromCodePoint(r)}'`;
}

/** Go's %q of a string (used in lexer errors). */
function q(s: string): string {
  return JSON.stringify(s);
}

type StateFn = ((l: Lexer) => StateFn) | null;

/** Lex a whole template into items (ending with EOF or an Error item). */
export function lex(input: string, breakOK: boolean, continueOK: boolean): Item[] {
  const l = new Lexer(input, breakOK, continueOK);
  for (let state: StateFn = lexText; state !== null;) state = state(l);
  return l.items;
}

class Lexer {
  items: Item[] = [];
  pos = 0;
  start = 0;
  atEOF = false;
  parenDepth = 0;
  line = 1;
  startLine = 1;

  constructor(readonly input: string, readonly breakOK: boolean, readonly continueOK: boolean) {}

  next(): number {
    if (this.pos >= this.input.length) { this.atEOF = true; return EOF; }
    const r = this.input.codePointAt(this.pos) ?? 0;
    this.pos += r > 0xffff ? 2 : 1;
    if (r === 0x0a) this.line++;
    return r;
  }

  peek(): number {
    const r = this.next();
    this.backup();
    return r;
  }

  backup(): void {
    if (this.atEOF || this.pos <= 0) return;
    const prev = this.input.codePointAt(this.pos - 1) ?? 0;
    const w = prev >= 0xdc00 && prev < 0xe000 && this.pos >= 2 ? 2 : 1;
    this.pos -= w;
    if (this.input.charCodeAt(this.pos) === 0x0a) this.line--;
  }

  emit(typ: T): void {
    this.items.push({ typ, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.startLine });
    this.start = this.pos;
    this.startLine = this.line;
  }

  ignore(): void {
    this.line += countNewlines(this.input.slice(this.start, this.pos));
    this.start = this.pos;
    this.startLine = this.line;
  }

  accept(valid: string): boolean {
    const r = this.next();
    if (r !== EOF && valid.includes(String.fromCodePoint(r))) return true;
    this.backup();
    return false;
  }

  acceptRun(valid: string): void {
    for (;;) {
      const r = this.next();
      if (r === EOF || !valid.includes(String.fromCodePoint(r))) break;
    }
    this.backup();
  }

  errorf(msg: string): StateFn {
    this.items.push({ typ: T.Error, pos: this.start, val: msg, line: this.startLine });
    return null;
  }

  atRightDelim(): { delim: boolean; trim: boolean } {
    if (hasRightTrimMarker(this.input, this.pos) && this.input.startsWith(RIGHT, this.pos + 2)) {
      return { delim: true, trim: true };
    }
    return { delim: this.input.startsWith(RIGHT, this.pos), trim: false };
  }

  atTerminator(): boolean {
    const r = this.peek();
    if (isSpace(r)) return true;
    if (r === EOF || '.,|:)('.includes(String.fromCodePoint(r))) return true;
    return this.input.startsWith(RIGHT, this.pos);
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function rightTrimLength(s: string): number {
  let i = s.length;
  while (i > 0 && SPACE_CHARS.includes(s[i - 1] ?? '')) i--;
  return s.length - i;
}

function leftTrimLength(s: string, from: number): number {
  let i = from;
  while (i < s.length && SPACE_CHARS.includes(s[i] ?? '')) i++;
  return i - from;
}

function lexText(l: Lexer): StateFn {
  const x = l.input.indexOf(LEFT, l.pos);
  if (x >= 0) {
    l.pos = x;
    let trimLength = 0;
    if (hasLeftTrimMarker(l.input, l.pos + LEFT.length)) {
      trimLength = rightTrimLength(l.input.slice(l.start, l.pos));
    }
    l.pos -= trimLength;
    if (l.pos > l.start) {
      l.line += countNewlines(l.input.slice(l.start, l.pos));
      l.emit(T.Text);
    }
    l.pos += trimLength;
    l.ignore();
    return lexLeftDelim;
  }
  l.pos = l.input.length;
  if (l.pos > l.start) {
    l.line += countNewlines(l.input.slice(l.start, l.pos));
    l.emit(T.Text);
  }
  l.emit(T.EOF);
  return null;
}

function lexLeftDelim(l: Lexer): StateFn {
  l.pos += LEFT.length;
  const trim = hasLeftTrimMarker(l.input, l.pos);
  const afterMarker = trim ? 2 : 0;
  if (l.input.startsWith('/*', l.pos + afterMarker)) {
    l.pos += afterMarker;
    l.ignore();
    return lexComment;
  }
  l.emit(T.LeftDelim);
  l.pos += afterMarker;
  l.ignore();
  l.parenDepth = 0;
  return lexInsideAction;
}

function lexComment(l: Lexer): StateFn {
  l.pos += 2;
  const i = l.input.indexOf('*/', l.pos);
  if (i < 0) return l.errorf('unclosed comment');
  l.pos = i + 2;
  const { delim, trim } = l.atRightDelim();
  if (!delim) return l.errorf('comment ends before closing delimiter');
  if (trim) l.pos += 2;
  l.pos += RIGHT.length;
  if (trim) l.pos += leftTrimLength(l.input, l.pos);
  l.ignore();
  return lexText;
}

function lexRightDelim(l: Lexer): StateFn {
  const trim = hasRightTrimMarker(l.input, l.pos);
  if (trim) {
    l.pos += 2;
    l.ignore();
  }
  l.pos += RIGHT.length;
  l.emit(T.RightDelim);
  if (trim) {
    l.pos += leftTrimLength(l.input, l.pos);
    l.ignore();
  }
  return lexText;
}

function lexInsideAction(l: Lexer): StateFn {
  if (l.atRightDelim().delim) {
    if (l.parenDepth === 0) return lexRightDelim;
    return l.errorf('unclosed left paren');
  }
  const r = l.next();
  if (r === EOF) return l.errorf('unclosed action');
  if (isSpace(r)) { l.backup(); return lexSpace; }
  const c = String.fromCodePoint(r);
  switch (c) {
    case '=': l.emit(T.Assign); return lexInsideAction;
    case ':':
      if (l.next() !== 0x3d) return l.errorf('expected :=');
      l.emit(T.Declare);
      return lexInsideAction;
    case '|': l.emit(T.Pipe); return lexInsideAction;
    case '"': return lexQuote;
    case '`': return lexRawQuote;
    case '$': return lexVariable;
    case "'": return lexChar;
    case '(': l.emit(T.LeftParen); l.parenDepth++; return lexInsideAction;
    case ')':
      l.emit(T.RightParen);
      l.parenDepth--;
      if (l.parenDepth < 0) return l.errorf(`unexpected right paren ${formatRuneU(r)}`);
      return lexInsideAction;
    default: break;
  }
  if (c === '.') {
    const nc = l.input.charCodeAt(l.pos);
    if (l.pos < l.input.length && (nc < 48 || nc > 57)) return lexField;
  }
  if (c === '.' || c === '+' || c === '-' || (r >= 48 && r <= 57)) { l.backup(); return lexNumber; }
  if (isAlphaNumeric(r)) { l.backup(); return lexIdentifier; }
  if (r <= 0x7f && r >= 0x20 && r !== 0x7f) { l.emit(T.Char); return lexInsideAction; }
  return l.errorf(`unrecognized character in action: ${formatRuneU(r)}`);
}

function lexSpace(l: Lexer): StateFn {
  let numSpaces = 0;
  while (isSpace(l.peek())) { l.next(); numSpaces++; }
  if (hasRightTrimMarker(l.input, l.pos - 1) && l.input.startsWith(RIGHT, l.pos - 1 + 2)) {
    l.backup();
    if (numSpaces === 1) return lexRightDelim;
  }
  l.emit(T.Space);
  return lexInsideAction;
}

function lexIdentifier(l: Lexer): StateFn {
  let r: number;
  do { r = l.next(); } while (isAlphaNumeric(r));
  l.backup();
  const word = l.input.slice(l.start, l.pos);
  if (!l.atTerminator()) return l.errorf(`bad character ${formatRuneU(r)}`);
  const kw = KEYWORDS[word];
  if (kw !== undefined && kw > T.Keyword) {
    if ((kw === T.Break && !l.breakOK) || (kw === T.Continue && !l.continueOK)) l.emit(T.Identifier);
    else l.emit(kw);
  } else if (word[0] === '.') l.emit(T.Field);
  else if (word === 'true' || word === 'false') l.emit(T.Bool);
  else l.emit(T.Identifier);
  return lexInsideAction;
}

function lexField(l: Lexer): StateFn {
  return lexFieldOrVariable(l, T.Field);
}

function lexVariable(l: Lexer): StateFn {
  if (l.atTerminator()) { l.emit(T.Variable); return lexInsideAction; }
  return lexFieldOrVariable(l, T.Variable);
}

function lexFieldOrVariable(l: Lexer, typ: T): StateFn {
  if (l.atTerminator()) {
    l.emit(typ === T.Variable ? T.Variable : T.Dot);
    return lexInsideAction;
  }
  let r: number;
  for (;;) {
    r = l.next();
    if (!isAlphaNumeric(r)) { l.backup(); break; }
  }
  if (!l.atTerminator()) return l.errorf(`bad character ${formatRuneU(r)}`);
  l.emit(typ);
  return lexInsideAction;
}

function lexChar(l: Lexer): StateFn {
  for (;;) {
    let r = l.next();
    if (r === 0x5c) {
      r = l.next();
      if (r !== EOF && r !== 0x0a) continue;
    }
    if (r === EOF || r === 0x0a) return l.errorf('unterminated character constant');
    if (r === 0x27) break;
  }
  l.emit(T.CharConstant);
  return lexInsideAction;
}

function scanNumber(l: Lexer): boolean {
  l.accept('+-');
  let digits = '0123456789_';
  if (l.accept('0')) {
    if (l.accept('xX')) digits = '0123456789abcdefABCDEF_';
    else if (l.accept('oO')) digits = '01234567_';
    else if (l.accept('bB')) digits = '01_';
  }
  l.acceptRun(digits);
  if (l.accept('.')) l.acceptRun(digits);
  if (digits.length === 11 && l.accept('eE')) { l.accept('+-'); l.acceptRun('0123456789_'); }
  if (digits.length === 23 && l.accept('pP')) { l.accept('+-'); l.acceptRun('0123456789_'); }
  l.accept('i');
  if (isAlphaNumeric(l.peek())) { l.next(); return false; }
  return true;
}

function lexNumber(l: Lexer): StateFn {
  if (!scanNumber(l)) return l.errorf(`bad number syntax: ${q(l.input.slice(l.start, l.pos))}`);
  const sign = l.peek();
  if (sign === 0x2b || sign === 0x2d) {
    if (!scanNumber(l) || l.input[l.pos - 1] !== 'i') {
      return l.errorf(`bad number syntax: ${q(l.input.slice(l.start, l.pos))}`);
    }
    l.emit(T.Complex);
  } else l.emit(T.Number);
  return lexInsideAction;
}

function lexQuote(l: Lexer): StateFn {
  for (;;) {
    let r = l.next();
    if (r === 0x5c) {
      r = l.next();
      if (r !== EOF && r !== 0x0a) continue;
    }
    if (r === EOF || r === 0x0a) return l.errorf('unterminated quoted string');
    if (r === 0x22) break;
  }
  l.emit(T.String);
  return lexInsideAction;
}

function lexRawQuote(l: Lexer): StateFn {
  for (;;) {
    const r = l.next();
    if (r === EOF) return l.errorf('unterminated raw quoted string');
    if (r === 0x60) break;
  }
  l.emit(T.RawString);
  return lexInsideAction;
}

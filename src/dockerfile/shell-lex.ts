/**
 * BuildKit's Dockerfile shell lexer: quote removal, escapes and variable
 * expansion ($V, ${V}, ${V:-w}, ${V-w}, ${V:+w}, ${V+w}, ${V:?m}, ${V?m},
 * ${V#p}, ${V##p}, ${V%p}, ${V%%p}, ${V/p/r}, ${V//p/r}) and word splitting
 * after expansion. It never runs commands: `$(...)` and backquotes are text.
 */
import { UnpositionedError } from './errors.js';
import { isGoSpace } from './text.js';
import { patternToRegex, trimPrefix, trimSuffix } from './shell-pattern.js';

/** Looks a variable up: its value, or undefined when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/** Lexer options, named as BuildKit's shell.Lex fields. */
export interface LexOptions {
  /** The escape character: '\\' (default) or '`'. */
  escapeToken?: string;
  /** Keep quote characters in the output (used to detect quoted heredoc words). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (used for heredoc bodies). */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written. */
  skipUnsetEnv?: boolean;
}

/** What a lexer run produced. */
export interface LexResult {
  /** The whole input, processed, spaces kept. */
  result: string;
  /** The processed input split into words (split after expansion, quotes honoured). */
  words: string[];
  /** Names that were looked up and found. */
  matched: Set<string>;
  /** Names that were looked up and not set. */
  unmatched: Set<string>;
}

const EOF = '';
const SIMPLE = /^[^$'"\\`]*$/;

/** Word collection when the caller wants words; NoWords otherwise (faster). */
class Words {
  words: string[] = [];
  buf = '';
  inWord = false;
  addChar(ch: string): void {
    if (isGoSpace(ch)) {
      if (this.inWord && this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }
  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  get(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class NoWords extends Words {
  override addChar(): void {}
  override addRaw(): void {}
  override addString(): void {}
  override get(): string[] {
    return [];
  }
}

const NO_WORDS = new NoWords();

function isDigit(ch: string): boolean {
  return (ch >= '0' && ch <= '9') || (ch > '\x7f' && /^\p{Nd}$/u.test(ch));
}

function isLetter(ch: string): boolean {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch > '\x7f' && /^\p{L}$/u.test(ch));
}

function isSpecialParam(ch: string): boolean {
  return '@*#?-$!0'.includes(ch) && ch !== '';
}

class ShellWord {
  private readonly chars: string[];
  private i = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    word: string,
    private readonly env: EnvLookup,
    private readonly opts: Required<LexOptions>,
  ) {
    this.chars = Array.from(word);
    this.rawEscapes = opts.rawEscapes;
  }

  private peek(): string {
    return this.chars[this.i] ?? EOF;
  }

  private next(): string {
    const ch = this.chars[this.i] ?? EOF;
    if (ch !== EOF) this.i++;
    return ch;
  }

  processStopOn(stop: string, rawEscapes: boolean, wantWords = false): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.stopOn(stop, wantWords);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private stopOn(stop: string, wantWords: boolean): { result: string; words: string[] } {
    let result = '';
    const words = wantWords ? new Words() : NO_WORDS;
    const quotes = !this.opts.skipProcessQuotes;
    const esc = this.opts.escapeToken;
    while (this.peek() !== EOF) {
      let ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return { result, words: words.get() };
      }
      if (ch === '$') {
        const tmp = this.processDollar();
        result += tmp;
        words.addString(tmp);
      } else if (quotes && (ch === "'" || ch === '"')) {
        const tmp = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
        result += tmp;
        words.addRaw(tmp);
      } else {
        ch = this.next();
        if (ch === esc) {
          if (this.rawEscapes) {
            words.addRaw(ch);
            result += ch;
          }
          ch = this.next();
          if (ch === EOF) break;
          words.addRaw(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
    }
    if (stop !== EOF) {
      throw new UnpositionedError(`unexpected end of statement while looking for matching ${stop}`);
    }
    return { result, words: words.get() };
  }

  private processSingleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new UnpositionedError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    const esc = this.opts.escapeToken;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new UnpositionedError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        const ch = this.next();
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === esc) {
        if (this.rawEscapes) result += ch;
        const n = this.peek();
        if (n === EOF) continue;
        if (n === '"' || n === '$' || n === esc) ch = this.next();
      }
      result += ch;
    }
  }

  private getEnv(name: string): string | undefined {
    const v = this.env(name);
    if (v === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return v;
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && isSpecialParam(ch)) return this.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private subWord(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (err) {
      if (this.peek() === EOF) throw new UnpositionedError(missing);
      throw err;
    }
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return v ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new UnpositionedError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new UnpositionedError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    if (ch === EOF) throw new UnpositionedError("syntax error: missing '}'");
    let chs = ch;
    if (ch === '}') {
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '${' + name + '}';
      return v ?? '';
    }
    if (ch === '/') return this.processReplace(name);
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      chs += ch;
    } else if (!'+-?#%'.includes(ch)) {
      throw new UnpositionedError(`unsupported modifier (${chs}) in substitution`);
    }
    const rawEscapes = ch === '#' || ch === '%';
    if (nullIsUnset && rawEscapes) throw new UnpositionedError(`unsupported modifier (${chs}) in substitution`);
    let word = this.subWord('}', rawEscapes, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (value === undefined && this.opts.skipUnsetEnv) return '${' + name + chs + word + '}';
    const empty = value === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return empty ? word : (value ?? '');
      case '+':
        return empty ? '' : word;
      case '?':
        if (value === undefined) throw new UnpositionedError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new UnpositionedError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '%':
      case '#': {
        let greedy = false;
        if (word.startsWith(ch)) {
          greedy = true;
          word = word.slice(1);
        }
        return ch === '%' ? trimSuffix(word, value ?? '', greedy) : trimPrefix(word, value ?? '', greedy);
      }
      default:
        throw new UnpositionedError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.subWord('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.subWord('}', true, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (value === undefined && this.opts.skipUnsetEnv) return '${' + name + '/' + pattern + '/' + replacement + '}';
    const re = patternToRegex(pattern, true, false, all);
    const v = value ?? '';
    if (all) return v.replace(re, () => replacement);
    const m = re.exec(v);
    if (!m) return v;
    return v.slice(0, m.index) + replacement + v.slice(m.index + m[0].length);
  }
}

function fullOptions(opts: LexOptions): Required<LexOptions> {
  return {
    escapeToken: opts.escapeToken ?? '\\',
    rawQuotes: opts.rawQuotes ?? false,
    rawEscapes: opts.rawEscapes ?? false,
    skipProcessQuotes: opts.skipProcessQuotes ?? false,
    skipUnsetEnv: opts.skipUnsetEnv ?? false,
  };
}

function splitSimple(word: string): string[] {
  const words: string[] = [];
  let cur = '';
  for (const ch of word) {
    if (isGoSpace(ch)) {
      if (cur !== '') words.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') words.push(cur);
  return words;
}

/**
 * Processes `word` as BuildKit's shell lexer does (`wantWords` false skips
 * the word split when only `result` is needed). Throws UnpositionedError
 * (`failed to process "<word>": <reason>`) on a syntax error or a `${V?msg}`
 * whose variable is unset.
 */
export function lex(word: string, env: EnvLookup, opts: LexOptions = {}, wantWords = true): LexResult {
  const o = fullOptions(opts);
  if (SIMPLE.test(word)) {
    return { result: word, words: wantWords ? splitSimple(word) : [], matched: new Set(), unmatched: new Set() };
  }
  const sw = new ShellWord(word, env, o);
  try {
    const { result, words } = sw.processStopOn(EOF, o.rawEscapes, wantWords);
    return { result, words, matched: sw.matched, unmatched: sw.unmatched };
  } catch (err) {
    if (err instanceof UnpositionedError) {
      throw new UnpositionedError(`failed to process ${JSON.stringify(word)}: ${err.message}`);
    }
    throw err;
  }
}

/** Expands one word (quotes removed, spaces kept). */
export function processWord(word: string, env: EnvLookup, opts: LexOptions = {}): string {
  return lex(word, env, opts, false).result;
}

/** Expands and splits into words (the split happens after expansion). */
export function processWords(word: string, env: EnvLookup, opts: LexOptions = {}): string[] {
  return lex(word, env, opts).words;
}

/** An EnvLookup over a record (own properties only). */
export function envLookup(env: Readonly<Record<string, string>>): EnvLookup {
  return (name) => (Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined);
}

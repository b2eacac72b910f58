/**
 * Per-instruction argument splitting, as BuildKit's parser/line_parsers.go
 * and split_command.go do it (before any variable expansion).
 */
import { UnpositionedError } from './errors.js';
import type { RawPair } from './ast.js';
import { isGoSpace, splitWhitespace, trimLeftSpace, trimSpace } from './text.js';

/** The arguments of one line, as a line parser returns them. */
export interface LineArgs {
  args: string[];
  json: boolean;
  pairs?: RawPair[];
}

const NONE: LineArgs = { args: [], json: false };

/**
 * Splits words at spaces, honouring quotes and the escape character; quotes
 * and escapes are kept (they are removed later by expansion).
 */
export function parseWords(rest: string, escapeToken: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    const end = pos === chars.length;
    let ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (end) break;
      if (isGoSpace(ch)) continue;
      phase = 'word';
    }
    if (end) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escapeToken) {
        if (pos + 1 === chars.length) continue;
        word += ch;
        pos++;
        ch = chars[pos] ?? '';
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    if (ch === escapeToken && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos] ?? '';
    }
    word += ch;
  }
  return words;
}

function parseNameVal(rest: string, key: string, escapeToken: string): LineArgs {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return NONE;
  if (!(words[0] ?? '').includes('=')) {
    const parts = splitWhitespace(rest, 2);
    if (parts.length < 2) throw new UnpositionedError(`${key} must have two arguments`);
    const k = parts[0] ?? '';
    const v = parts[1] ?? '';
    return { args: [k, v], json: false, pairs: [{ key: k, value: v, legacy: true }] };
  }
  const args: string[] = [];
  const pairs: RawPair[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      throw new UnpositionedError(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
    }
    const k = word.slice(0, eq);
    const v = word.slice(eq + 1);
    args.push(k, v);
    pairs.push({ key: k, value: v, legacy: false });
  }
  return { args, json: false, pairs };
}

function parseStringsWhitespaceDelimited(rest: string): LineArgs {
  if (rest === '') return NONE;
  return { args: splitWhitespace(rest, -1), json: false };
}

function parseString(rest: string): LineArgs {
  return rest === '' ? NONE : { args: [rest], json: false };
}

const NOT_JSON = Symbol('not-json');

function parseJSON(rest: string): string[] | typeof NOT_JSON {
  const r = trimLeftSpace(rest);
  if (!r.startsWith('[')) return NOT_JSON;
  let parsed: unknown;
  try {
    parsed = JSON.parse(r);
  } catch {
    return NOT_JSON;
  }
  if (!Array.isArray(parsed)) return NOT_JSON;
  for (const v of parsed) {
    if (typeof v !== 'string') {
      throw new UnpositionedError('when using JSON array syntax, arrays must be comprised of strings only');
    }
  }
  return parsed as string[];
}

function parseMaybeJSON(rest: string): LineArgs {
  if (rest === '') return NONE;
  const j = parseJSON(rest);
  if (j !== NOT_JSON) return { args: j, json: true };
  return { args: [rest], json: false };
}

function parseMaybeJSONToList(rest: string): LineArgs {
  const j = parseJSON(rest);
  if (j !== NOT_JSON) return { args: j, json: true };
  return parseStringsWhitespaceDelimited(rest);
}

function parseHealthConfig(rest: string): LineArgs {
  let sep = 0;
  while (sep < rest.length && !isGoSpace(rest[sep] ?? '')) sep++;
  let next = sep;
  while (next < rest.length && isGoSpace(rest[next] ?? '')) next++;
  if (sep === 0) return NONE;
  const cmd = parseMaybeJSON(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

/** Splits the arguments of instruction `cmd` (lower case); unknown instructions get none. */
export function parseLineArgs(cmd: string, rest: string, escapeToken: string): LineArgs {
  switch (cmd) {
    case 'add':
    case 'copy':
    case 'volume':
      return parseMaybeJSONToList(rest);
    case 'arg':
      return rest === '' ? NONE : { args: parseWords(rest, escapeToken), json: false };
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      return parseMaybeJSON(rest);
    case 'env':
      return parseNameVal(rest, 'ENV', escapeToken);
    case 'label':
      return parseNameVal(rest, 'LABEL', escapeToken);
    case 'expose':
    case 'from':
      return parseStringsWhitespaceDelimited(rest);
    case 'healthcheck':
      return parseHealthConfig(rest);
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      return parseString(rest);
    default:
      return NONE;
  }
}

/** Splits leading `--flag` words from the rest of the argument text (split_command.go). */
export function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const end = pos === line.length;
    let ch = line[pos] ?? '';
    if (phase === 'spaces') {
      if (end) break;
      if (isGoSpace(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return { rest: line.slice(pos), flags: words };
      phase = 'word';
    }
    if (end) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { rest: line.slice(pos), flags: words };
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) continue;
        pos++;
        ch = line[pos] ?? '';
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === '\\') {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      ch = line[pos] ?? '';
    }
    word += ch;
  }
  return { rest: '', flags: words };
}

/** Splits a logical line into instruction word, flags and argument text. */
export function splitCommand(line: string): { cmd: string; flags: string[]; rest: string } {
  const parts = splitWhitespace(trimSpace(line), 2);
  const cmd = parts[0] ?? '';
  if (parts.length < 2) return { cmd, flags: [], rest: '' };
  const { rest, flags } = extractBuilderFlags(parts[1] ?? '');
  return { cmd, flags, rest: trimSpace(rest) };
}

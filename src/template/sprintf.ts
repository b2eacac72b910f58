/**
 * Go's fmt.Sprintf (doPrintf): flags, width, precision, `*`, explicit
 * argument indexes `%[n]d`, and Go's error forms (%!d(MISSING),
 * %!(EXTRA ...), %!(NOVERB), %!(BADWIDTH), %!(BADPREC), %!d(BADINDEX)).
 */
import { Printer, clearFlags } from './fmt.js';
import { goTypeName, kindOf } from './values.js';

interface State {
  p: Printer;
  format: string;
  args: readonly unknown[];
  i: number;
  argNum: number;
  afterIndex: boolean;
  reordered: boolean;
  goodArgNum: boolean;
}

function parseNum(s: string, start: number, end: number): { num: number; isnum: boolean; next: number } {
  let i = start;
  let num = 0;
  while (i < end && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
    if (num > 1e6) return { num: 0, isnum: false, next: end };
    num = num * 10 + (s.charCodeAt(i) - 48);
    i++;
  }
  return { num, isnum: i > start, next: i };
}

function intFromArg(st: State): { num: number; isInt: boolean } {
  let num = 0;
  let isInt = false;
  if (st.argNum < st.args.length) {
    const a = st.args[st.argNum];
    if (kindOf(a) === 'int') {
      num = Number(a as number | bigint);
      isInt = true;
    }
    st.argNum++;
    if (num > 1e6 || num < -1e6) { num = 0; isInt = false; }
  }
  return { num, isInt };
}

/** Handle `[n]` at st.i; updates argNum, i and afterIndex. */
function argNumber(st: State): void {
  const { format } = st;
  if (st.i >= format.length || format[st.i] !== '[') { st.afterIndex = false; return; }
  st.reordered = true;
  const rest = format.slice(st.i);
  let wid = 1;
  let ok = false;
  let index = 0;
  if (rest.length >= 3) {
    const close = rest.indexOf(']', 1);
    if (close > 0) {
      const n = parseNum(rest, 1, close);
      wid = close + 1;
      if (n.isnum && n.next === close) { ok = true; index = n.num - 1; }
    }
  }
  st.i += wid;
  if (ok && index >= 0 && index < st.args.length) {
    st.argNum = index;
    st.afterIndex = true;
    return;
  }
  st.goodArgNum = false;
  st.afterIndex = ok;
}

function parseFlags(st: State): boolean {
  const { p, format } = st;
  for (; st.i < format.length; st.i++) {
    const c = format[st.i] ?? '';
    switch (c) {
      case '#': p.f.sharp = true; break;
      case '0': p.f.zero = !p.f.minus; break;
      case '+': p.f.plus = true; break;
      case '-': p.f.minus = true; p.f.zero = false; break;
      case ' ': p.f.space = true; break;
      default:
        if (c >= 'a' && c <= 'z' && st.argNum < st.args.length) {
          printVerb(st, c);
          st.i++;
          return true;
        }
        return false;
    }
  }
  return false;
}

function printVerb(st: State, verb: string): void {
  const { p } = st;
  if (verb === 'v') {
    p.f.sharpV = p.f.sharp;
    p.f.sharp = false;
    p.f.plusV = p.f.plus;
    p.f.plus = false;
  }
  p.printArg(st.args[st.argNum], verb);
  st.argNum++;
}

function parseWidth(st: State): void {
  const { p, format } = st;
  if (st.i < format.length && format[st.i] === '*') {
    st.i++;
    const r = intFromArg(st);
    p.f.wid = r.num;
    p.f.widPresent = r.isInt;
    if (!r.isInt) p.buf += '%!(BADWIDTH)';
    if (p.f.wid < 0) { p.f.wid = -p.f.wid; p.f.minus = true; p.f.zero = false; }
    st.afterIndex = false;
    return;
  }
  const n = parseNum(format, st.i, format.length);
  p.f.wid = n.num;
  p.f.widPresent = n.isnum;
  st.i = n.next;
  if (st.afterIndex && p.f.widPresent) st.goodArgNum = false;
}

function parsePrecision(st: State): void {
  const { p, format } = st;
  if (!(st.i + 1 < format.length && format[st.i] === '.')) return;
  st.i++;
  if (st.afterIndex) st.goodArgNum = false;
  argNumber(st);
  if (st.i < format.length && format[st.i] === '*') {
    st.i++;
    const r = intFromArg(st);
    p.f.prec = r.num;
    p.f.precPresent = r.isInt;
    if (p.f.prec < 0) { p.f.prec = 0; p.f.precPresent = false; }
    if (!p.f.precPresent) p.buf += '%!(BADPREC)';
    st.afterIndex = false;
    return;
  }
  const n = parseNum(format, st.i, format.length);
  p.f.prec = n.isnum ? n.num : 0;
  p.f.precPresent = true;
  st.i = n.next;
}

/** Process one directive after '%'; returns false when the format ended without a verb. */
function directive(st: State): boolean {
  const { p, format } = st;
  p.f = clearFlags();
  if (parseFlags(st)) return true;
  argNumber(st);
  parseWidth(st);
  parsePrecision(st);
  if (!st.afterIndex) argNumber(st);
  if (st.i >= format.length) { p.buf += '%!(NOVERB)'; return false; }
  const verb = String.fromCodePoint(format.codePointAt(st.i) ?? 0);
  st.i += verb.length;
  if (verb === '%') p.buf += '%';
  else if (!st.goodArgNum) p.buf += '%!' + verb + '(BADINDEX)';
  else if (st.argNum >= st.args.length) p.buf += '%!' + verb + '(MISSING)';
  else printVerb(st, verb);
  return true;
}

function extraArgs(st: State): void {
  const { p } = st;
  p.f = clearFlags();
  p.buf += '%!(EXTRA ';
  st.args.slice(st.argNum).forEach((arg, i) => {
    if (i > 0) p.buf += ', ';
    if (arg === undefined || arg === null) p.buf += '<nil>';
    else {
      p.buf += goTypeName(arg) + '=';
      p.printArg(arg, 'v');
    }
  });
  p.buf += ')';
}

/** Go's fmt.Sprintf over JS values (see values.ts for the Go type mapping). */
export function sprintf(format: string, args: readonly unknown[]): string {
  const st: State = {
    p: new Printer(), format, args, i: 0, argNum: 0, afterIndex: false, reordered: false,
    goodArgNum: true,
  };
  while (st.i < format.length) {
    st.goodArgNum = true;
    const pct = format.indexOf('%', st.i);
    if (pct < 0) { st.p.buf += format.slice(st.i); break; }
    st.p.buf += format.slice(st.i, pct);
    st.i = pct + 1;
    if (!directive(st)) break;
  }
  if (!st.reordered && st.argNum < args.length) extraArgs(st);
  return st.p.buf;
}

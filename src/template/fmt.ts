/**
 * A port of the parts of Go's fmt package that templates use: Sprint,
 * Sprintln, Sprintf and the %v printing of values (see values.ts for how JS
 * values map to Go values).
 */
import { formatFloat } from './float.js';
import { canBackquote, goQuote, goQuoteRune } from './quote.js';
import {
  GoEmptyStruct, GoStruct, GoTime, goTypeName, kindOf, numberOf, sortedMapEntries, structEntries,
} from './values.js';

/** Formatting flags of one verb (Go's fmt.fmtFlags plus width and precision). */
export interface Flags {
  plus: boolean; minus: boolean; sharp: boolean; space: boolean; zero: boolean;
  plusV: boolean; sharpV: boolean;
  wid: number; widPresent: boolean; prec: number; precPresent: boolean;
}

/** Fresh, cleared flags. */
export function clearFlags(): Flags {
  return {
    plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false,
    sharpV: false, wid: 0, widPresent: false, prec: 0, precPresent: false,
  };
}

function runeCount(s: string): number {
  let n = 0;
  for (const ch of s) { void ch; n++; }
  return n;
}

/** One formatting run (Go's pp + fmt); used by sprintf.ts. */
export class Printer {
  buf = '';
  f: Flags = clearFlags();

  private padding(n: number): string {
    return n > 0 ? (this.f.zero ? '0' : ' ').repeat(n) : '';
  }

  pad(s: string): void {
    if (!this.f.widPresent || this.f.wid === 0) { this.buf += s; return; }
    const p = this.padding(this.f.wid - runeCount(s));
    this.buf += this.f.minus ? s + p : p + s;
  }

  private truncate(s: string): string {
    if (!this.f.precPresent) return s;
    return Array.from(s).slice(0, this.f.prec).join('');
  }

  badVerb(verb: string, arg: unknown): void {
    this.buf += '%!' + verb + '(';
    if (arg === undefined || arg === null) this.buf += '<nil>';
    else {
      this.buf += goTypeName(arg) + '=';
      this.printValue(arg, 'v', 0);
    }
    this.buf += ')';
  }

  printArg(arg: unknown, verb: string): void {
    if (arg === undefined || arg === null) {
      if (verb === 'v' || verb === 'T') this.pad('<nil>');
      else this.badVerb(verb, arg);
      return;
    }
    if (verb === 'T') { this.pad(goTypeName(arg)); return; }
    this.printValue(arg, verb, 0);
  }

  printValue(v: unknown, verb: string, depth: number): void {
    switch (kindOf(v)) {
      case 'invalid': case 'nil':
        if (verb === 'v') this.buf += '<nil>'; else this.badVerb(verb, undefined);
        return;
      case 'bool':
        if (verb === 'v' || verb === 't') this.pad(v ? 'true' : 'false'); else this.badVerb(verb, v);
        return;
      case 'int': this.fmtInteger(v as number | bigint, verb); return;
      case 'float': this.fmtFloatVerb(numberOf(v), verb, v); return;
      case 'string': this.fmtString(v as string, verb); return;
      case 'slice': this.printList(Array.isArray(v) ? v : [], verb, depth); return;
      case 'map': this.printMap(v, verb, depth); return;
      case 'struct':
        if (v instanceof GoTime) this.fmtString(v.toString(), verb);
        else this.printStruct(v as GoStruct | GoEmptyStruct, verb, depth);
        return;
      case 'func': this.pad('0x0'); return;
    }
  }

  private printList(items: unknown[], verb: string, depth: number): void {
    this.buf += '[';
    items.forEach((e, i) => {
      if (i > 0) this.buf += ' ';
      this.printValue(e, verb, depth + 1);
    });
    this.buf += ']';
  }

  private printMap(v: unknown, verb: string, depth: number): void {
    this.buf += 'map[';
    sortedMapEntries(v).forEach(([k, e], i) => {
      if (i > 0) this.buf += ' ';
      this.printValue(k, verb, depth + 1);
      this.buf += ':';
      this.printValue(e, verb, depth + 1);
    });
    this.buf += ']';
  }

  private printStruct(v: GoStruct | GoEmptyStruct, verb: string, depth: number): void {
    this.buf += '{';
    structEntries(v).forEach(([k, e], i) => {
      if (i > 0) this.buf += ' ';
      if (this.f.plusV || this.f.sharpV) this.buf += k + ':';
      this.printValue(e, verb, depth + 1);
    });
    this.buf += '}';
  }

  private fmtString(s: string, verb: string): void {
    switch (verb) {
      case 'v': if (this.f.sharpV) this.fmtQ(s); else this.pad(this.truncate(s)); return;
      case 's': this.pad(this.truncate(s)); return;
      case 'x': case 'X': this.fmtSx(s, verb === 'X'); return;
      case 'q': this.fmtQ(s); return;
      default: this.badVerb(verb, s);
    }
  }

  private fmtQ(s: string): void {
    s = this.truncate(s);
    if (this.f.sharp && canBackquote(s)) { this.pad('`' + s + '`'); return; }
    this.pad(goQuote(s, this.f.plus));
  }

  private fmtSx(s: string, upper: boolean): void {
    let bytes = Array.from(Buffer.from(s, 'utf8'));
    if (this.f.precPresent && this.f.prec < bytes.length) bytes = bytes.slice(0, this.f.prec);
    if (bytes.length === 0) { if (this.f.widPresent) this.buf += this.padding(this.f.wid); return; }
    const prefix = this.f.sharp ? (upper ? '0X' : '0x') : '';
    const parts = bytes.map((b) => b.toString(16).padStart(2, '0'));
    let out: string;
    if (this.f.space) out = parts.map((p) => prefix + p).join(' ');
    else out = prefix + parts.join('');
    if (upper) out = out.toUpperCase();
    const saved = this.f.zero;
    this.f.zero = false;
    this.pad(out);
    this.f.zero = saved;
  }

  private fmtInteger(v: number | bigint, verb: string): void {
    const n = BigInt(v);
    const bases: Record<string, number> = { v: 10, d: 10, b: 2, o: 8, O: 8, x: 16, X: 16 };
    const base = bases[verb];
    if (base !== undefined) { this.fmtIntBase(n, base, verb); return; }
    const cp = Number(n);
    if (verb === 'c') this.pad(cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd');
    else if (verb === 'q') this.pad(goQuoteRune(cp, this.f.plus));
    else if (verb === 'U') this.fmtUnicode(cp);
    else this.badVerb(verb, v);
  }

  private fmtUnicode(cp: number): void {
    let s = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
    if (this.f.sharp && cp <= 0x10ffff) s += " '" + String.fromCodePoint(cp) + "'";
    const saved = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = saved;
  }

  private fmtIntBase(n: bigint, base: number, verb: string): void {
    const negative = n < 0n;
    let digits = (negative ? -n : n).toString(base);
    if (verb === 'X') digits = digits.toUpperCase();
    let prec = 0;
    if (this.f.precPresent) {
      prec = this.f.prec;
      if (prec === 0 && n === 0n) {
        const saved = this.f.zero;
        this.f.zero = false;
        this.buf += this.padding(this.f.wid);
        this.f.zero = saved;
        return;
      }
    } else if (this.f.zero && this.f.widPresent) {
      prec = this.f.wid - (negative || this.f.plus || this.f.space ? 1 : 0);
    }
    digits = digits.padStart(prec, '0');
    if (this.f.sharp) {
      if (base === 2) digits = '0b' + digits;
      else if (base === 8 && !digits.startsWith('0')) digits = '0' + digits;
      else if (base === 16) digits = (verb === 'X' ? '0X' : '0x') + digits;
    }
    if (verb === 'O') digits = '0o' + digits;
    if (negative) digits = '-' + digits;
    else if (this.f.plus) digits = '+' + digits;
    else if (this.f.space) digits = ' ' + digits;
    const saved = this.f.zero;
    this.f.zero = false;
    this.pad(digits);
    this.f.zero = saved;
  }

  private fmtFloatVerb(x: number, verb: string, orig: unknown): void {
    switch (verb) {
      case 'v': this.fmtFloat(x, 'g', -1); return;
      case 'g': case 'G': this.fmtFloat(x, verb, -1); return;
      case 'e': case 'E': case 'f': this.fmtFloat(x, verb, 6); return;
      case 'F': this.fmtFloat(x, 'f', 6); return;
      default: this.badVerb(verb, orig);
    }
  }

  private fmtFloat(x: number, verb: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): void {
    if (this.f.precPresent) prec = this.f.prec;
    let num = formatFloat(x, verb, prec);
    if (num[0] !== '-' && num[0] !== '+') num = '+' + num;
    if (this.f.space && num[0] === '+' && !this.f.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const saved = this.f.zero;
      this.f.zero = false;
      if (num[1] === 'N' && !this.f.space && !this.f.plus) num = num.slice(1);
      this.pad(num);
      this.f.zero = saved;
      return;
    }
    if (this.f.plus || num[0] !== '+') {
      if (this.f.zero && this.f.widPresent && this.f.wid > num.length) {
        this.buf += num[0] + '0'.repeat(this.f.wid - num.length) + num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }
}

/** Go's fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: readonly unknown[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.printArg(arg, 'v');
    prevString = isString;
  });
  return p.buf;
}

/** Go's fmt.Sprintln: operands separated by spaces, newline appended. */
export function sprintln(args: readonly unknown[]): string {
  const p = new Printer();
  args.forEach((arg, i) => {
    if (i > 0) p.buf += ' ';
    p.printArg(arg, 'v');
  });
  return p.buf + '\n';
}

/** The %v text of one value (what `{{.X}}` prints for a present value). */
export function formatValue(v: unknown): string {
  const p = new Printer();
  p.printArg(v, 'v');
  return p.buf;
}


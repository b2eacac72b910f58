/**
 * Go's strconv float formatting ('e', 'f', 'g' with a precision or the
 * shortest representation), used by the fmt port. Rounding of fixed
 * precision is done on the exact decimal value of the double, half to even,
 * as Go does.
 */

/** Decimal digits d (no leading zeros) with value 0.d × 10^dp. */
interface Digits {
  d: string;
  dp: number;
}

/** The exact decimal expansion of a positive finite double. */
function exactDigits(x: number): Digits {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let exp2: number;
  if (expBits === 0) exp2 = -1074;
  else { mant |= 1n << 52n; exp2 = expBits - 1075; }
  if (mant === 0n) return { d: '', dp: 0 };
  let s: string;
  let dp: number;
  if (exp2 >= 0) {
    s = (mant << BigInt(exp2)).toString();
    dp = s.length;
  } else {
    s = (mant * 5n ** BigInt(-exp2)).toString();
    dp = s.length + exp2;
  }
  return trimZeros({ d: s, dp });
}

function trimZeros(x: Digits): Digits {
  let end = x.d.length;
  while (end > 0 && x.d[end - 1] === '0') end--;
  let start = 0;
  while (start < end && x.d[start] === '0') start++;
  return { d: x.d.slice(start, end), dp: x.dp - start };
}

/** Round exact digits to nd digits, half to even. */
function roundTo(x: Digits, nd: number): Digits {
  if (nd < 0) return { d: '', dp: x.dp };
  if (nd >= x.d.length) return x;
  const c = x.d.charCodeAt(nd) - 48;
  let up = c > 5 || (c === 5 && nd + 1 < x.d.length);
  if (c === 5 && nd + 1 === x.d.length) up = nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return trimZeros({ d: x.d.slice(0, nd), dp: x.dp });
  let i = nd - 1;
  const arr = x.d.slice(0, nd).split('');
  while (i >= 0 && arr[i] === '9') { arr[i] = '0'; i--; }
  if (i < 0) return { d: '1', dp: x.dp + 1 };
  arr[i] = String.fromCharCode((arr[i] ?? '0').charCodeAt(0) + 1);
  return trimZeros({ d: arr.join(''), dp: x.dp });
}

/** Shortest digits that round-trip (JS and Go agree on these). */
function shortestDigits(x: number): Digits {
  const [mant = '0', exp = '0'] = x.toExponential().split('e');
  const d = mant.replace('.', '');
  return trimZeros({ d, dp: Number(exp) + 1 });
}

function fmtE(x: Digits, prec: number, ech: string): string {
  let out = x.d.length > 0 ? x.d[0] ?? '0' : '0';
  if (prec > 0) out += '.' + x.d.slice(1, prec + 1).padEnd(prec, '0');
  let exp = x.d.length === 0 ? 0 : x.dp - 1;
  const sign = exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  return out + ech + sign + (exp < 10 ? '0' + exp : String(exp));
}

function fmtF(x: Digits, prec: number): string {
  let out = '';
  if (x.dp > 0) out = x.d.slice(0, x.dp).padEnd(x.dp, '0');
  else out = '0';
  if (prec > 0) {
    let frac = '';
    for (let i = 0; i < prec; i++) {
      const j = x.dp + i;
      frac += j >= 0 && j < x.d.length ? x.d[j] : '0';
    }
    out += '.' + frac;
  }
  return out;
}

/**
 * Format like Go's strconv.FormatFloat(x, fmt, prec, 64) for fmt in e E f g G;
 * prec < 0 means the shortest representation.
 */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  const shortest = prec < 0;
  let digs: Digits;
  if (ax === 0) digs = { d: '', dp: 0 };
  else if (shortest) digs = shortestDigits(ax);
  else {
    const exact = exactDigits(ax);
    if (fmt === 'f') digs = roundTo(exact, exact.dp + prec);
    else if (fmt === 'e' || fmt === 'E') digs = roundTo(exact, prec + 1);
    else digs = roundTo(exact, prec === 0 ? 1 : prec);
  }
  if (shortest) {
    if (fmt === 'e' || fmt === 'E') prec = Math.max(digs.d.length - 1, 0);
    else if (fmt === 'f') prec = Math.max(digs.d.length - digs.dp, 0);
    else prec = digs.d.length;
  } else if ((fmt === 'g' || fmt === 'G') && prec === 0) prec = 1;
  return (neg ? '-' : '') + formatDigits(digs, shortest, prec, fmt);
}

function formatDigits(digs: Digits, shortest: boolean, prec: number, fmt: string): string {
  const nd = digs.d.length;
  switch (fmt) {
    case 'e': case 'E': return fmtE(digs, prec, fmt);
    case 'f': return fmtF(digs, prec);
    default: {
      let eprec = prec;
      if (eprec > nd && nd >= digs.dp) eprec = nd;
      if (shortest) eprec = 6;
      const exp = digs.dp - 1;
      if (nd === 0 ? false : exp < -4 || exp >= eprec) {
        return fmtE(digs, Math.min(prec, nd) - 1, fmt === 'g' ? 'e' : 'E');
      }
      if (prec > digs.dp) prec = nd;
      return fmtF(digs, Math.max(prec - digs.dp, 0));
    }
  }
}

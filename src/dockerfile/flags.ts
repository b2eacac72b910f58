/**
 * Instruction flags (`--chown=1:1`, `--link`, repeated `--mount=...`),
 * checked as BuildKit's instructions/bflag.go checks them.
 */
import { UnpositionedError, withSuggestion } from './errors.js';

/** The kind of value a flag takes. */
export type FlagKind = 'bool' | 'string' | 'strings';

/** Parsed flag values: strings for string/bool flags, arrays for repeatable ones. */
export interface FlagValues {
  strings: Map<string, string>;
  lists: Map<string, string[]>;
  bools: Map<string, boolean>;
}

/**
 * Parses `--name[=value]` words against `spec`. Throws UnpositionedError with
 * BuildKit's messages: unknown flag (with a suggestion), duplicate flag,
 * missing value, non-boolean value.
 */
export function parseFlags(words: readonly string[], spec: Readonly<Record<string, FlagKind>>): FlagValues {
  const out: FlagValues = { strings: new Map(), lists: new Map(), bools: new Map() };
  const used = new Set<string>();
  for (const word of words) {
    if (!word.startsWith('--')) throw new UnpositionedError(`arg should start with -- : ${word}`);
    if (word === '--') break;
    let name = word.slice(2);
    let value = '';
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const kind = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (kind === undefined) {
      throw new UnpositionedError(withSuggestion(`unknown flag: ${name}`, name, Object.keys(spec), true));
    }
    if (used.has(name) && kind !== 'strings') throw new UnpositionedError(`duplicate flag specified: ${name}`);
    used.add(name);
    if (kind === 'bool') {
      if (eq >= 0 && value === '') throw new UnpositionedError(`missing a value on flag: ${name}`);
      const lower = value.toLowerCase();
      if (lower !== '' && lower !== 'true' && lower !== 'false') {
        throw new UnpositionedError(`expecting boolean value for flag ${name}, not: ${value}`);
      }
      out.bools.set(name, lower !== 'false');
      continue;
    }
    if (eq < 0) throw new UnpositionedError(`missing a value on flag: ${name}`);
    if (kind === 'string') out.strings.set(name, value);
    else out.lists.set(name, [...(out.lists.get(name) ?? []), value]);
  }
  return out;
}

/** The flags each instruction accepts; instructions not listed take none. */
export const INSTRUCTION_FLAGS: Readonly<Record<string, Readonly<Record<string, FlagKind>>>> = {
  from: { platform: 'string' },
  run: { mount: 'strings', network: 'string', security: 'string' },
  add: {
    chown: 'string',
    chmod: 'string',
    link: 'bool',
    'keep-git-dir': 'bool',
    checksum: 'string',
    exclude: 'strings',
  },
  copy: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  healthcheck: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
};

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/**
 * Parses a Go duration (`30s`, `1m30s`, `1.5h`, `300ms`) into nanoseconds.
 * Throws UnpositionedError with Go's time.ParseDuration wording:
 * `time: invalid duration "x"`, `time: missing unit in duration "5"`,
 * `time: unknown unit "d" in duration "5d"`.
 */
export function parseGoDuration(s: string): number {
  const q = JSON.stringify(s);
  const bad = (): UnpositionedError => new UnpositionedError(`time: invalid duration ${q}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw bad();
  let total = 0;
  const re = /^(\d*)(\.?)(\d*)([^\d.]*)/u;
  while (rest !== '') {
    const m = re.exec(rest);
    const num = `${m?.[1] ?? ''}${m?.[2] ?? ''}${m?.[3] ?? ''}`;
    if (!m || (m[1] === '' && m[3] === '')) throw bad();
    const unit = m[4] ?? '';
    if (unit === '') throw new UnpositionedError(`time: missing unit in duration ${q}`);
    const scale = UNITS[unit];
    if (scale === undefined) throw new UnpositionedError(`time: unknown unit ${JSON.stringify(unit)} in duration ${q}`);
    total += Number(num) * scale;
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

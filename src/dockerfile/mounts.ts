/**
 * `RUN --mount=...` options, parsed and checked as BuildKit's
 * instructions/commands_runmount.go does.
 */
import { UnpositionedError, withSuggestion } from './errors.js';

/** A RUN mount. Values are expanded with the variables in scope. */
export interface RunMount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  /** Stage name, stage index or image the mount reads from (bind, cache). */
  from?: string;
  source?: string;
  /** Mount point; defaulted for secret (`/run/secrets/<id>`) and ssh. */
  target?: string;
  readOnly: boolean;
  /** Cache id, secret id or ssh id (secret and ssh default as BuildKit does). */
  id?: string;
  /** Cache sharing mode (cache only; default `shared`). */
  sharing?: 'shared' | 'private' | 'locked';
  required: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  /** tmpfs size in bytes. */
  size?: number;
  /** Secret: the environment variable to expose the secret as. */
  env?: string;
}

const TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING = ['shared', 'private', 'locked'];
const ALL_KEYS = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'mode', 'uid', 'gid',
  'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'size', 'env',
];

/** Splits one CSV record (encoding/csv semantics for a single line). */
export function splitCsv(value: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) throw new UnpositionedError('failed to parse csv mounts: extraneous or missing " in quoted-field');
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += value[i++];
      }
      if (i < value.length && value[i] !== ',') {
        throw new UnpositionedError('failed to parse csv mounts: extraneous or missing " in quoted-field');
      }
    } else {
      const end = value.indexOf(',', i);
      field = value.slice(i, end < 0 ? value.length : end);
      if (field.includes('"')) throw new UnpositionedError('failed to parse csv mounts: bare " in non-quoted-field');
      i = end < 0 ? value.length : end;
    }
    fields.push(field);
    if (i >= value.length) return fields;
    i++;
  }
}

function parseBool(key: string, v: string): boolean {
  const l = v.toLowerCase();
  if (['1', 't', 'true'].includes(l) || v === 'True') return true;
  if (['0', 'f', 'false'].includes(l) || v === 'False') return false;
  throw new UnpositionedError(`invalid value for ${key}: ${v}`);
}

function parseUint(key: string, v: string, radix: 8 | 10): number {
  const ok = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  const n = ok.test(v) ? Number.parseInt(v, radix) : NaN;
  if (!Number.isFinite(n) || n > 0xffffffff) throw new UnpositionedError(`invalid value ${v} for ${key}`);
  return n;
}

function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(v);
  if (!m) throw new UnpositionedError(`invalid value ${v} for size`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.floor(Number(m[1]) * mult);
}

function applyField(m: RunMount, key: string, value: string, field: string, st: { roAuto: boolean }): void {
  switch (key) {
    case 'type': {
      const t = value.toLowerCase();
      if (!TYPES.includes(t)) {
        throw new UnpositionedError(withSuggestion(`unsupported mount type ${JSON.stringify(value)}`, value, TYPES, true));
      }
      m.type = t as RunMount['type'];
      return;
    }
    case 'from': m.from = value; return;
    case 'source': case 'src': m.source = value; return;
    case 'target': case 'dst': case 'destination': m.target = value; return;
    case 'readonly': case 'ro': m.readOnly = parseBool(key, value); st.roAuto = false; return;
    case 'readwrite': case 'rw': m.readOnly = !parseBool(key, value); st.roAuto = false; return;
    case 'required':
      if (m.type !== 'secret' && m.type !== 'ssh') throw new UnpositionedError(`unexpected key '${key}' for mount type '${m.type}'`);
      m.required = parseBool(key, value);
      return;
    case 'id': m.id = value; return;
    case 'sharing':
      if (!SHARING.includes(value.toLowerCase())) throw new UnpositionedError(`unsupported sharing value ${JSON.stringify(value)}`);
      m.sharing = value.toLowerCase() as RunMount['sharing'];
      return;
    case 'mode': m.mode = parseUint('mode', value, 8); return;
    case 'uid': m.uid = parseUint('uid', value, 10); return;
    case 'gid': m.gid = parseUint('gid', value, 10); return;
    case 'size':
      if (m.type !== 'tmpfs') throw new UnpositionedError(`unexpected key '${key}' for mount type '${m.type}'`);
      m.size = parseSize(value);
      return;
    case 'env':
      if (m.type !== 'secret') throw new UnpositionedError(`unexpected key '${key}' for mount type '${m.type}'`);
      m.env = value;
      return;
    default:
      throw new UnpositionedError(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ALL_KEYS, true));
  }
}

function validate(m: RunMount): void {
  const fileInfo = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  for (const k of ['mode', 'uid', 'gid'] as const) {
    if (m[k] !== undefined && !fileInfo) throw new UnpositionedError(`${k} not allowed for ${JSON.stringify(m.type)} type mounts`);
  }
  if (m.sharing !== undefined && m.type !== 'cache') throw new UnpositionedError(`invalid cache sharing set for ${m.type} mount`);
  if (m.type === 'secret') {
    if (m.from !== undefined) throw new UnpositionedError('secret mount should not have a from');
    if (m.source === undefined && m.target === undefined && m.id === undefined && m.env === undefined) {
      throw new UnpositionedError('invalid secret mount. one of source, target required');
    }
    if (m.source !== undefined && m.id !== undefined) throw new UnpositionedError("both source and id can't be set");
  }
}

function applyDefaults(m: RunMount): void {
  if (m.type === 'cache' && m.sharing === undefined) m.sharing = 'shared';
  if (m.type === 'secret') {
    if (m.id === undefined) m.id = m.source ?? (m.target !== undefined ? m.target.split('/').pop() ?? '' : undefined);
    if (m.target === undefined && m.env === undefined && m.id !== undefined) m.target = `/run/secrets/${m.id}`;
    delete m.source;
  }
  if (m.type === 'ssh' && m.id === undefined) m.id = 'default';
  if (m.type === 'cache' && m.id === undefined && m.target !== undefined) m.id = m.target;
}

/**
 * Parses one `--mount` value. `expand` (when given) is applied to every
 * value; without it a `from=` containing `$` is refused as BuildKit does.
 */
export function parseMount(value: string, expand?: (word: string) => string): RunMount {
  const m: RunMount = { type: 'bind', readOnly: true, required: false };
  const st = { roAuto: true };
  for (const field of splitCsv(value)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro' || key === 'readwrite' || key === 'rw') {
        m.readOnly = key === 'readonly' || key === 'ro';
        st.roAuto = false;
        continue;
      }
      if (key === 'required' && (m.type === 'secret' || m.type === 'ssh')) {
        m.required = true;
        continue;
      }
      if (key === 'required') throw new UnpositionedError(`unexpected key '${key}' for mount type '${m.type}'`);
      throw new UnpositionedError(`invalid field '${field}' must be a key=value pair`);
    }
    let v = field.slice(eq + 1);
    if (expand) v = expand(v);
    else if (key === 'from' && /\$./.test(v)) {
      throw new UnpositionedError(`'${key}' doesn't support variable expansion, define alias stage instead`);
    }
    applyField(m, key, v, field, st);
  }
  validate(m);
  if (st.roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  applyDefaults(m);
  return m;
}

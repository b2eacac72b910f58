/**
 * Go value semantics for JavaScript data handed to templates.
 *
 * Mapping (JS -> Go):
 *  - string -> string; boolean -> bool
 *  - number: integer-valued and within int64 -> int, otherwise float64;
 *    bigint -> int; `goFloat(n)` forces float64 (1 prints as "1", 1e6 as "1e+06")
 *  - null -> a nil pointer (prints `<nil>`, is false)
 *  - undefined -> "no value" (a missing map entry; prints `<no value>`)
 *  - arrays -> slices; plain objects -> map[string]interface {} (keys sorted when printed)
 *  - markers: `goStruct`, `goEmptyStruct`/`EMPTY_STRUCT`, `goNilMap`, `goNilSlice`.
 */

/** A Go struct: fields print in insertion order as `{v1 v2}`; a missing field is an error. */
export class GoStruct {
  /**
   * @param fields the struct fields in declaration order.
   * @param typeName Go type name used in errors.
   * @param json what `json` prints for this struct (its MarshalJSON form); default: the fields.
   */
  constructor(
    readonly fields: Record<string, unknown>,
    readonly typeName: string = 'struct',
    readonly json?: unknown,
  ) {}
}

/**
 * A value whose `json` form is already-encoded JSON text, like a Go type with
 * a MarshalJSON method (docker/cli's formatter contexts marshal themselves
 * with json.Marshal, so `{{json .}}` of a row is HTML-escaped).
 */
export class GoRawJSON {
  constructor(readonly text: () => string) {}
}

/** A Go time.Time: prints as Go's Time.String(), serialises to JSON as its RFC 3339 text. */
export class GoTime {
  readonly typeName = 'time.Time';
  /** @param rfc3339 the time as RFC 3339 (nano) text, e.g. 2024-05-01T10:00:00.5Z. */
  constructor(readonly rfc3339: string) {}

  /** Go's Time.String(): `2006-01-02 15:04:05.999999999 -0700 MST`. */
  toString(): string {
    const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})?$/.exec(this.rfc3339);
    if (!m) return this.rfc3339;
    const frac = (m[3] ?? '').replace(/0+$/, '');
    const zone = m[4] === undefined || m[4] === 'Z' || m[4] === 'z' ? '+0000 UTC' : zoneText(m[4]);
    return `${m[1]} ${m[2]}${frac ? '.' + frac : ''} ${zone}`;
  }
}

function zoneText(offset: string): string {
  const o = offset.replace(':', '');
  return o === '+0000' ? '+0000 UTC' : `${o} ${o}`;
}

/** Wrap an RFC 3339 time string as a Go time.Time. */
export function goTime(rfc3339: string): GoTime {
  return new GoTime(rfc3339);
}

/** A Go empty struct value `struct{}{}`: prints `{}`, JSON `{}`. */
export class GoEmptyStruct {
  readonly typeName = 'struct {}';
}

/** A nil Go map: prints `map[]`, JSON `null`, false, length 0. */
export class GoNilMap {
  constructor(readonly typeName: string = 'map[string]interface {}') {}
}

/** A nil Go slice: prints `[]`, JSON `null`, false, length 0. */
export class GoNilSlice {
  constructor(readonly typeName: string = '[]string') {}
}

/** A Go float64 whose value may be integral (so it prints `1e+06`, not `1000000`). */
export class GoFloat {
  constructor(readonly value: number) {}
}

/** Wrap an object as a Go struct (field order = insertion order). */
export function goStruct(fields: Record<string, unknown>, typeName?: string, json?: unknown): GoStruct {
  return new GoStruct(fields, typeName, json);
}

/** The shared empty-struct marker (`{}`), e.g. values of ExposedPorts / Volumes. */
export const EMPTY_STRUCT: GoEmptyStruct = new GoEmptyStruct();

/** Return the empty-struct marker. */
export function goEmptyStruct(): GoEmptyStruct {
  return EMPTY_STRUCT;
}

/** A nil map marker (prints `map[]`). */
export function goNilMap(typeName?: string): GoNilMap {
  return new GoNilMap(typeName);
}

/** A nil slice marker (prints `[]`). */
export function goNilSlice(typeName?: string): GoNilSlice {
  return new GoNilSlice(typeName);
}

/** Mark a number as a Go float64. */
export function goFloat(n: number): GoFloat {
  return new GoFloat(n);
}

/** The Go kinds the executor distinguishes. */
export type Kind =
  | 'invalid' | 'nil' | 'string' | 'int' | 'float' | 'bool'
  | 'slice' | 'map' | 'struct' | 'func';

const INT64_LIMIT = 2 ** 63;

/** The Go kind of a JS value. */
export function kindOf(v: unknown): Kind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'bigint': return 'int';
    case 'number': return Number.isInteger(v) && Math.abs(v) < INT64_LIMIT ? 'int' : 'float';
    case 'function': return 'func';
    default: break;
  }
  if (v instanceof GoFloat) return 'float';
  if (Array.isArray(v) || v instanceof GoNilSlice) return 'slice';
  if (v instanceof GoStruct || v instanceof GoEmptyStruct || v instanceof GoTime) return 'struct';
  return 'map';
}

/** True for a nil map or nil slice marker (or null). */
export function isNilValue(v: unknown): boolean {
  return v === null || v instanceof GoNilMap || v instanceof GoNilSlice;
}

/** The number inside an int or float value. */
export function numberOf(v: unknown): number {
  if (v instanceof GoFloat) return v.value;
  if (typeof v === 'bigint') return Number(v);
  return v as number;
}

/** True when `v` is an array of strings (assignable to Go's []string). */
export function isStringSlice(v: unknown): v is string[] | GoNilSlice {
  if (v instanceof GoNilSlice) return true;
  return Array.isArray(v) && v.every((e) => typeof e === 'string');
}

/** The Go type name of a value, as Go's reflect prints it in errors. */
export function goTypeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid': return '<nil>';
    case 'nil': return 'interface {}';
    case 'string': return 'string';
    case 'bool': return 'bool';
    case 'int': return 'int';
    case 'float': return 'float64';
    case 'func': return 'func';
    case 'slice':
      if (v instanceof GoNilSlice) return v.typeName;
      return (v as unknown[]).length > 0 && isStringSlice(v) ? '[]string' : '[]interface {}';
    case 'struct': return (v as GoStruct | GoEmptyStruct | GoTime).typeName;
    case 'map': return v instanceof GoNilMap ? v.typeName : 'map[string]interface {}';
  }
}

/** Entries of a map value (plain object or nil map), keys in Go's sorted order. */
export function sortedMapEntries(v: unknown): Array<[string, unknown]> {
  if (v instanceof GoNilMap) return [];
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  keys.sort(compareGoStrings);
  return keys.map((k) => [k, obj[k]]);
}

/** Entries of a struct value in field order. */
export function structEntries(v: GoStruct | GoEmptyStruct): Array<[string, unknown]> {
  return v instanceof GoStruct ? Object.entries(v.fields) : [];
}

/** Compare two strings in Go's byte (UTF-8) order. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The length of a value as Go's len() sees it (strings in UTF-8 bytes); undefined when len is invalid. */
export function goLen(v: unknown): number | undefined {
  switch (kindOf(v)) {
    case 'string': return Buffer.byteLength(v as string, 'utf8');
    case 'slice': return v instanceof GoNilSlice ? 0 : (v as unknown[]).length;
    case 'map': return sortedMapEntries(v).length;
    default: return undefined;
  }
}

/** Go truthiness: [truth, ok]; ok is false for values that have no truth value. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid': case 'nil': return false;
    case 'string': case 'slice': case 'map': return (goLen(v) ?? 0) > 0;
    case 'bool': return v as boolean;
    case 'int': return typeof v === 'bigint' ? v !== 0n : v !== 0;
    case 'float': return numberOf(v) !== 0;
    case 'struct': case 'func': return true;
  }
}

/**
 * The functions docker/cli adds to every template (templates/templates.go):
 * json join split upper lower title truncate pad, plus HeaderFunctions, the
 * replacements used when the same template renders a table header.
 */
import type { FuncMap } from './func-types.js';
import { goJSON } from './json.js';
import { GoNilSlice } from './values.js';

function mapRunes(s: string, f: (ch: string, prev: string) => string): string {
  let out = '';
  let prev = ' ';
  for (const ch of s) {
    out += f(ch, prev);
    prev = ch;
  }
  return out;
}

/** Go's unicode.ToUpper on one rune (simple case mapping only). */
function upperRune(ch: string): string {
  const u = ch.toUpperCase();
  return Array.from(u).length === 1 ? u : ch;
}

function lowerRune(ch: string): string {
  const l = ch.toLowerCase();
  return Array.from(l).length === 1 ? l : (Array.from(l)[0] ?? ch);
}

/** Go's strings.ToUpper. */
export function goUpper(s: string): string {
  return mapRunes(s, upperRune);
}

/** Go's strings.ToLower. */
export function goLower(s: string): string {
  return mapRunes(s, lowerRune);
}

function isSeparator(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp <= 0x7f) return !/[0-9A-Za-z_]/.test(ch);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return /\s/u.test(ch);
}

/** Go's (deprecated) strings.Title. */
export function goTitle(s: string): string {
  return mapRunes(s, (ch, prev) => (isSeparator(prev) ? upperRune(ch) : ch));
}

/** Go's strings.Split. */
export function goSplit(s: string, sep: string): string[] {
  if (sep === '') return Array.from(s);
  return s.split(sep);
}

/** docker's truncate: the first `length` bytes of s. */
function truncate(s: string, length: number): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length < length) return s;
  return b.subarray(0, Math.max(length, 0)).toString('utf8');
}

/** docker's pad: spaces around a non-empty string. */
function pad(s: string, prefix: number, suffix: number): string {
  if (s === '') return s;
  return ' '.repeat(Math.max(prefix, 0)) + s + ' '.repeat(Math.max(suffix, 0));
}

/** docker's json: Go's encoder without HTML escaping; an encoding error gives "". */
function json(v: unknown): string {
  try {
    return goJSON(v).trim();
  } catch {
    return '';
  }
}

/** The functions docker/cli installs on every --format template. */
export const DOCKER_FUNCS: FuncMap = {
  json: { params: ['any'], fn: json },
  split: { params: ['string', 'string'], fn: (s, sep) => goSplit(s as string, sep as string) },
  join: {
    params: ['[]string', 'string'],
    fn: (a, sep) => (a instanceof GoNilSlice ? '' : (a as string[]).join(sep as string)),
  },
  title: { params: ['string'], fn: (s) => goTitle(s as string) },
  lower: { params: ['string'], fn: (s) => goLower(s as string) },
  upper: { params: ['string'], fn: (s) => goUpper(s as string) },
  pad: { params: ['string', 'int', 'int'], fn: (s, a, b) => pad(s as string, a as number, b as number) },
  truncate: { params: ['string', 'int'], fn: (s, n) => truncate(s as string, n as number) },
};

/** docker's HeaderFunctions: keep column names intact when rendering the header row. */
export const HEADER_FUNCS: FuncMap = {
  ...DOCKER_FUNCS,
  json: { params: ['string'], fn: (v) => v },
  split: { params: ['string', 'string'], fn: (v) => v },
  join: { params: ['string', 'string'], fn: (v) => v },
  title: { params: ['string'], fn: (v) => v },
  lower: { params: ['string'], fn: (v) => v },
  upper: { params: ['string'], fn: (v) => v },
  truncate: { params: ['string', 'int'], fn: (v) => v },
};

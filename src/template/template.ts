/**
 * The public template API: parse once, execute many times, with Go's
 * builtins and docker's functions available by default.
 */
import { BUILTINS } from './builtins.js';
import { DOCKER_FUNCS } from './docker-funcs.js';
import { execute, type MissingKey } from './exec.js';
import type { FuncMap } from './func-types.js';
import { parse, type ParsedTree } from './parser.js';

/** A parsed template. */
export interface Template {
  readonly source: string;
  readonly tree: ParsedTree;
  /** Functions known at parse time (in addition to Go's builtins). */
  readonly funcs: FuncMap;
}

/** Options of parseTemplate. */
export interface ParseOptions {
  /** Functions to install; default: docker's (json join split upper lower title truncate pad). */
  funcs?: FuncMap;
}

/** Options of executeTemplate. */
export interface ExecuteOptions {
  /** Replace functions for this execution (e.g. HEADER_FUNCS); default: the parse-time ones. */
  funcs?: FuncMap;
  /** Go's missingkey option; default 'default' (a missing key prints `<no value>`). */
  missingKey?: MissingKey;
  /** Template name used in error messages; docker uses "". */
  name?: string;
}

/**
 * Parse a Go text/template source. Throws TemplateError (a
 * SlipwayError('TEMPLATE')) with Go's message, e.g.
 * `template parsing error: template: :1: unexpected "}" in operand`.
 */
export function parseTemplate(src: string, opts: ParseOptions = {}): Template {
  const funcs = opts.funcs ?? DOCKER_FUNCS;
  const tree = parse(src, (name) => Object.hasOwn(funcs, name) || Object.hasOwn(BUILTINS, name));
  return { source: src, tree, funcs };
}

/**
 * Execute a parsed template over `data` (JS values with Go semantics, see
 * values.ts) and return the output. Throws TemplateError with Go's message,
 * e.g. `template parsing error: template: :1:2: executing "" at <.Foo>: ...`.
 */
export function executeTemplate(t: Template, data: unknown, opts: ExecuteOptions = {}): string {
  return execute(t.tree, data, {
    funcs: { ...t.funcs, ...opts.funcs },
    builtins: BUILTINS,
    missingKey: opts.missingKey ?? 'default',
    name: opts.name ?? '',
  });
}

/** Parse and execute in one step. */
export function renderTemplate(src: string, data: unknown, opts: ParseOptions & ExecuteOptions = {}): string {
  return executeTemplate(parseTemplate(src, opts), data, { missingKey: opts.missingKey, name: opts.name });
}

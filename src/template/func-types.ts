/**
 * How template functions are declared: Go-typed parameters (so that argument
 * checking and its error texts match Go's reflect-based calls) and a JS body.
 */

/** Parameter types: interface{}, reflect.Value, and the concrete types docker's funcs use. */
export type ParamType = 'any' | 'value' | 'string' | 'int' | 'bool' | '[]string';

/** A function callable from templates. */
export interface GoFunc {
  /** Fixed parameters. */
  params: ParamType[];
  /** Element type of a trailing variadic parameter, if any. */
  variadic?: ParamType;
  /** The body; throw FuncError for a Go error result. */
  fn: (...args: unknown[]) => unknown;
  /** Builtin and/or: short-circuit evaluation. */
  special?: 'and' | 'or';
}

/** Functions by name. */
export type FuncMap = Record<string, GoFunc>;

/** A Go error returned by a template function (reported as `error calling NAME: msg`). */
export class FuncError extends Error {}

/** Go's spelling of a parameter type in error messages. */
export function paramTypeName(t: ParamType): string {
  switch (t) {
    case 'any': return 'interface {}';
    case 'value': return 'reflect.Value';
    default: return t;
  }
}

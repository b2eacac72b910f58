/**
 * Variable scopes and expanders: the copy-on-write variable maps an
 * instruction sees, and word expansion bound to them.
 */
import type { Expander } from './instructions.js';
import { lex } from './shell-lex.js';
import type { Scope } from './types.js';

/** A fresh null-prototype record (safe for any key, `__proto__` included). */
export function emptyVars(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

/**
 * A copy of `vars` with `key` set; `vars` is left untouched. Object spread and
 * computed keys define own properties, so even `__proto__` is stored as data.
 */
export function withVar(vars: Readonly<Record<string, string>>, key: string, value: string): Record<string, string> {
  return { ...vars, [key]: value };
}

/** A copy of `vars` with every pair set, in order (one copy for the batch). */
export function withVars(vars: Readonly<Record<string, string>>, pairs: readonly { key: string; value: string }[]): Record<string, string> {
  const out: Record<string, string> = { ...vars };
  for (const p of pairs) Object.defineProperty(out, p.key, { value: p.value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Builds a variable record from `K=V` strings (a `K` without `=` gets ""); the first of duplicates wins. */
export function varsFromList(list: readonly string[]): Record<string, string> {
  const out = emptyVars();
  for (const e of list) {
    const eq = e.indexOf('=');
    const k = eq < 0 ? e : e.slice(0, eq);
    if (!(k in out)) out[k] = eq < 0 ? '' : e.slice(eq + 1);
  }
  return out;
}

/** Looks `name` up in a record, own properties only. */
export function lookupIn(vars: Readonly<Record<string, string>>): (name: string) => string | undefined {
  return (name) => (Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined);
}

/**
 * An expander over `vars`, using the Dockerfile's escape token for words and
 * `\` for heredoc bodies (as BuildKit does). `unmatched`, when given,
 * collects the names that were referenced but not set.
 */
export function expanderFor(vars: Readonly<Record<string, string>>, escapeToken: string, unmatched?: Set<string>): Expander {
  const env = lookupIn(vars);
  const note = (u: Set<string>): void => {
    if (unmatched) for (const n of u) unmatched.add(n);
  };
  return {
    expanding: true,
    word(s) {
      const r = lex(s, env, { escapeToken }, false);
      note(r.unmatched);
      return r.result;
    },
    words(s) {
      const r = lex(s, env, { escapeToken });
      note(r.unmatched);
      return r.words;
    },
    raw(s) {
      const r = lex(s, env, { escapeToken: '\\', skipProcessQuotes: true }, false);
      note(r.unmatched);
      return r.result;
    },
  };
}

/** The empty scope. */
export function emptyScope(): Scope {
  return { env: emptyVars(), args: emptyVars() };
}

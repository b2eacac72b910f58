/**
 * The executor of Go's text/template (exec.go) over JS values with Go
 * semantics (values.ts). Error texts and positions follow Go:
 * `template: NAME:LINE:COL: executing "NAME" at <NODE>: message`.
 */
import { formatValue } from './fmt.js';
import { FuncError, paramTypeName, type FuncMap, type GoFunc, type ParamType } from './func-types.js';
import type { ArgNode, BranchNode, CommandNode, ListNode, Node, PipeNode } from './nodes.js';
import { nodeString } from './nodes.js';
import type { ParsedTree } from './parser.js';
import { TemplateError, positionOf } from './template-error.js';
import {
  GoFloat, GoNilSlice, GoStruct, goTypeName, isStringSlice, isTrue, kindOf, sortedMapEntries,
} from './values.js';

/** What to do when a map has no entry for a key (Go's missingkey option). */
export type MissingKey = 'default' | 'zero' | 'error';

/** Options of one execution. */
export interface ExecOptions {
  funcs: FuncMap;
  builtins: FuncMap;
  missingKey: MissingKey;
  name: string;
}

const MISSING = Symbol('missing');
type Val = unknown;
class BreakSignal {}
class ContinueSignal {}
const MAX_DEPTH = 1000;

/** Execute a parsed tree over `data`; returns the output text or throws TemplateError. */
export function execute(tree: ParsedTree, data: unknown, opts: ExecOptions): string {
  const s = new State(tree, opts);
  s.vars.push({ name: '$', value: data });
  try {
    s.walk(data, tree.root);
  } catch (err) {
    if (err instanceof TemplateError) err.partialOutput = s.out.join('');
    throw err;
  }
  return s.out.join('');
}

class State {
  out: string[] = [];
  vars: Array<{ name: string; value: Val }> = [];
  node: Node | undefined;
  depth = 0;

  constructor(private readonly tree: ParsedTree, private readonly opts: ExecOptions) {}

  at(n: Node): void { this.node = n; }

  errorf(msg: string): never {
    const name = this.opts.name;
    if (this.node === undefined) {
      throw new TemplateError(`template: ${name}: ${msg}`, { line: 1, column: 0 });
    }
    const where = positionOf(this.tree.text, this.node.pos);
    const loc = `${name}:${where.line}:${where.column}`;
    throw new TemplateError(
      `template: ${loc}: executing ${JSON.stringify(name)} at <${nodeString(this.node)}>: ${msg}`, where);
  }

  varValue(name: string): Val {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]?.name === name) return this.vars[i]?.value;
    return this.errorf(`undefined variable: ${name}`);
  }

  setVar(name: string, value: Val): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) { v.value = value; return; }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  walk(dot: Val, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break': throw new BreakSignal();
      case 'continue': throw new ContinueSignal();
      case 'comment': return;
      case 'if': case 'with': this.walkIfOrWith(node.type, dot, node.pipe, node.list, node.elseList); return;
      case 'list': for (const n of node.nodes) this.walk(dot, n); return;
      case 'range': this.walkRange(dot, node); return;
      case 'template': this.walkTemplate(dot, node); return;
      case 'text': this.out.push(node.text); return;
      default: this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  private printValue(node: Node, v: Val): void {
    this.at(node);
    this.out.push(v === undefined ? '<no value>' : formatValue(v));
  }

  private walkIfOrWith(kind: 'if' | 'with', dot: Val, pipe: PipeNode, list: ListNode, elseList?: ListNode): void {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, pipe);
      if (isTrue(val)) this.walk(kind === 'with' ? val : dot, list);
      else if (elseList) this.walk(dot, elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: Val, r: BranchNode): void {
    this.at(r);
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const inner = this.vars.length;
      const one = (index: Val, elem: Val): void => {
        if (r.pipe.decl.length > 0) this.setTop(1, elem);
        if (r.pipe.decl.length > 1) this.setTop(2, index);
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (!(e instanceof ContinueSignal)) throw e;
        } finally {
          this.vars.length = inner;
        }
      };
      if (!this.iterate(val, r, one) && r.elseList) this.walk(dot, r.elseList);
    } catch (e) {
      if (!(e instanceof BreakSignal)) throw e;
    } finally {
      this.vars.length = mark;
    }
  }

  /** Run `one` per element; false when there was nothing to iterate. */
  private iterate(val: Val, r: BranchNode, one: (i: Val, e: Val) => void): boolean {
    switch (kindOf(val)) {
      case 'slice': {
        const arr = val instanceof GoNilSlice ? [] : (val as Val[]);
        arr.forEach((e, i) => one(i, e));
        return arr.length > 0;
      }
      case 'map': {
        const entries = sortedMapEntries(val);
        for (const [k, e] of entries) one(k, e);
        return entries.length > 0;
      }
      case 'int': {
        if (r.pipe.decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
        const n = Number(val as number | bigint);
        for (let i = 0; i < n; i++) one(undefined, i);
        return n > 0;
      }
      case 'invalid': case 'nil': return false;
      default: return this.errorf(`range can't iterate over ${formatValue(val)}`);
    }
  }

  private setTop(n: number, value: Val): void {
    const v = this.vars[this.vars.length - n];
    if (v) v.value = value;
  }

  private walkTemplate(dot: Val, t: Extract<Node, { type: 'template' }>): void {
    this.at(t);
    const list = this.tree.defs.get(t.name);
    if (list === undefined) this.errorf(`template ${JSON.stringify(t.name)} not defined`);
    if (this.depth >= MAX_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_DEPTH})`);
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : undefined;
    const savedVars = this.vars;
    this.vars = [{ name: '$', value: newDot }];
    this.depth++;
    try {
      this.walk(newDot, list);
    } finally {
      this.depth--;
      this.vars = savedVars;
    }
  }

  evalPipeline(dot: Val, pipe: PipeNode): Val {
    this.at(pipe);
    let value: Val | typeof MISSING = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0] ?? '', value);
      else this.vars.push({ name: v.ident[0] ?? '', value });
    }
    return value;
  }

  private notAFunction(args: ArgNode[], final: Val): void {
    if (args.length > 1 || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${nodeString(args[0] as ArgNode)}`);
    }
  }

  private evalCommand(dot: Val, cmd: CommandNode, final: Val): Val {
    const first = cmd.args[0] as ArgNode;
    switch (first.type) {
      case 'field': return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain': return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier': return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe': this.notAFunction(cmd.args, final); return this.evalPipeline(dot, first);
      case 'variable': return this.evalVariableNode(dot, first, cmd.args, final);
      default: break;
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': return this.errorf('nil is not a command');
      case 'number': return this.idealConstant(first);
      case 'string': return first.text;
    }
  }

  private idealConstant(n: Extract<ArgNode, { type: 'number' }>): Val {
    this.at(n);
    const { num } = n;
    const hexInt = /^[+-]?0[xX]/.test(num.text) && !/[pP]/.test(num.text);
    if (num.isFloat && !hexInt && !num.text.startsWith("'") && /[.eEpP]/.test(num.text)) {
      return Number.isInteger(num.float) ? new GoFloat(num.float) : num.float;
    }
    if (num.isInt) return Number.isSafeInteger(Number(num.int)) ? Number(num.int) : num.int;
    return this.errorf(`${num.text} overflows int`);
  }

  private evalFieldNode(dot: Val, field: Extract<ArgNode, { type: 'field' }>, args: ArgNode[] | undefined, final: Val): Val {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: Val, chain: Extract<ArgNode, { type: 'chain' }>, args: ArgNode[] | undefined, final: Val): Val {
    this.at(chain);
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: Val, v: Extract<ArgNode, { type: 'variable' }>, args: ArgNode[] | undefined, final: Val): Val {
    this.at(v);
    const value = this.varValue(v.ident[0] ?? '');
    if (v.ident.length === 1) {
      this.notAFunction(args ?? [v], final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: Val, receiver: Val, node: Node, ident: string[], args: ArgNode[] | undefined, final: Val): Val {
    let iface = false;
    for (let i = 0; i < ident.length - 1; i++) {
      const fromMap = kindOf(receiver) === 'map';
      receiver = this.evalField(dot, ident[i] ?? '', node, undefined, MISSING, receiver, iface);
      iface = fromMap;
    }
    return this.evalField(dot, ident[ident.length - 1] ?? '', node, args, final, receiver, iface);
  }

  private evalField(dot: Val, name: string, node: Node, args: ArgNode[] | undefined, final: Val, receiver: Val, iface: boolean): Val {
    const kind = kindOf(receiver);
    if (kind === 'invalid') {
      if (this.opts.missingKey === 'error') this.errorf(`nil data; no entry for key ${JSON.stringify(name)}`);
      return undefined;
    }
    if (kind === 'nil') this.errorf(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = (args?.length ?? 0) > 1 || final !== MISSING;
    if (receiver instanceof GoStruct && Object.hasOwn(receiver.fields, name)) {
      const field = receiver.fields[name];
      if (typeof field === 'function') {
        const method: GoFunc = { params: [], variadic: 'any', fn: field as (...a: unknown[]) => unknown };
        return this.evalCall(dot, method, false, node, name, args, final);
      }
      if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
      return field;
    }
    if (kind === 'map') {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      const obj = receiver as Record<string, Val>;
      const result = Object.hasOwn(obj, name) ? obj[name] : undefined;
      if (result === undefined && this.opts.missingKey === 'error') {
        this.errorf(`map has no entry for key ${JSON.stringify(name)}`);
      }
      return result;
    }
    return this.errorf(`can't evaluate field ${name} in type ${iface ? 'interface {}' : goTypeName(receiver)}`);
  }

  private evalFunction(dot: Val, node: Extract<ArgNode, { type: 'identifier' }>, cmd: Node, args: ArgNode[] | undefined, final: Val): Val {
    this.at(node);
    const name = node.ident;
    const own = this.opts.funcs[name];
    const fn = own ?? this.opts.builtins[name];
    if (fn === undefined) this.errorf(`${JSON.stringify(name)} is not a defined function`);
    return this.evalCall(dot, fn, own === undefined, cmd, name, args, final);
  }

  private checkArgCount(fn: GoFunc, name: string, nArgs: number, numIn: number): number {
    if (fn.variadic !== undefined) {
      if (numIn < fn.params.length) {
        this.errorf(`wrong number of args for ${name}: want at least ${fn.params.length} got ${nArgs}`);
      }
      return fn.params.length;
    }
    if (numIn !== fn.params.length) this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    return nArgs;
  }

  private evalCall(dot: Val, fn: GoFunc, isBuiltin: boolean, node: Node, name: string, argNodes: ArgNode[] | undefined, final: Val): Val {
    const args = argNodes ? argNodes.slice(1) : [];
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    const numFixed = this.checkArgCount(fn, name, args.length, numIn);
    if (isBuiltin && fn.special) return this.andOr(dot, fn.special, args, final);
    const argv: Val[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, fn.params[i], args[i] as ArgNode));
    for (; i < args.length; i++) argv.push(this.evalArg(dot, fn.variadic, args[i] as ArgNode));
    if (final !== MISSING) {
      let t = fn.variadic ?? fn.params[fn.params.length - 1];
      if (fn.variadic !== undefined && numIn - 1 < numFixed) t = fn.params[numIn - 1];
      argv.push(this.validateType(final, t));
    }
    try {
      return fn.fn(...argv);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      this.at(node);
      return this.errorf(`error calling ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private andOr(dot: Val, which: 'and' | 'or', args: ArgNode[], final: Val): Val {
    let v: Val;
    for (const arg of args) {
      v = this.evalArg(dot, 'value', arg);
      if (isTrue(v) === (which === 'or')) return v;
    }
    if (final !== MISSING) v = final;
    return v;
  }

  private validateType(value: Val, typ: ParamType | undefined): Val {
    if (value === undefined) {
      if (typ === undefined || typ === 'any' || typ === 'value') return undefined;
      if (typ === '[]string') return new GoNilSlice();
      return this.errorf(`invalid value; expected ${paramTypeName(typ)}`);
    }
    if (typ === undefined || typ === 'any' || typ === 'value') return value;
    const k = kindOf(value);
    const ok = typ === '[]string' ? isStringSlice(value) : k === typ;
    if (!ok) this.errorf(`wrong type for value; expected ${paramTypeName(typ)}; got ${goTypeName(value)}`);
    return value;
  }

  private evalArg(dot: Val, typ: ParamType | undefined, n: ArgNode): Val {
    this.at(n);
    switch (n.type) {
      case 'dot': return this.validateType(dot, typ);
      case 'nil':
        if (typ === undefined || typ === 'any' || typ === 'value') return undefined;
        if (typ === '[]string') return new GoNilSlice();
        return this.errorf(`cannot assign nil to ${paramTypeName(typ)}`);
      case 'field': return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable': return this.validateType(this.evalVariableNode(dot, n, undefined, MISSING), typ);
      case 'pipe': return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier': return this.validateType(this.evalFunction(dot, n, n, undefined, MISSING), typ);
      case 'chain': return this.validateType(this.evalChainNode(dot, n, undefined, MISSING), typ);
      default: return this.evalLiteral(typ, n);
    }
  }

  private evalLiteral(typ: ParamType | undefined, n: Extract<ArgNode, { type: 'bool' | 'number' | 'string' }>): Val {
    const found = nodeString(n);
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        return this.errorf(`expected bool; found ${found}`);
      case 'int':
        if (n.type === 'number' && n.num.isInt) return Number(n.num.int);
        return this.errorf(`expected integer; found ${found}`);
      case 'string':
        if (n.type === 'string') return n.text;
        return this.errorf(`expected string; found ${found}`);
      case 'any': case 'value': case undefined:
        if (n.type === 'number') return this.idealConstant(n);
        return n.type === 'bool' ? n.value : n.text;
      default:
        return this.errorf(`can't handle ${found} for arg of type ${paramTypeName(typ)}`);
    }
  }
}

export { FuncError };

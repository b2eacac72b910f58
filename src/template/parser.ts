/**
 * The parser of Go's text/template (parse/parse.go): same grammar, same
 * error texts (`template: :LINE: msg`), same tolerance. `define`, `block`
 * and `template` are supported in their simple forms.
 */
import { T, lex, type Item } from './lexer.js';
import type { ArgNode, CommandNode, ListNode, Node, PipeNode, VariableNode } from './nodes.js';
import { nodeString } from './nodes.js';
import { parseNumber } from './number.js';
import { goUnquote } from './quote.js';
import { TemplateError, positionOf } from './template-error.js';

/** A parsed template: the main tree plus templates defined with define/block. */
export interface ParsedTree {
  text: string;
  root: ListNode;
  defs: Map<string, ListNode>;
}

function itemString(i: Item): string {
  if (i.typ === T.EOF) return 'EOF';
  if (i.typ === T.Error) return i.val;
  if (i.typ > T.Keyword) return `<${i.val}>`;
  if (i.val.length > 10) return JSON.stringify(i.val.slice(0, 10)) + '...';
  return JSON.stringify(i.val);
}

/** Parse `text`; `hasFunction` tells which identifiers are functions. */
export function parse(text: string, hasFunction: (name: string) => boolean): ParsedTree {
  const p = new Parser(text, hasFunction);
  return p.parseTop();
}

class Parser {
  private items: Item[];
  private idx = 0;
  private token: Item[] = [];
  private peekCount = 0;
  private vars: string[] = ['$'];
  private actionLine = 0;
  private rangeDepth = 0;
  private defs = new Map<string, ListNode>();

  constructor(private readonly text: string, private readonly hasFunction: (name: string) => boolean) {
    this.items = lex(text, !hasFunction('break'), !hasFunction('continue'));
  }

  private lexNext(): Item {
    const it = this.items[Math.min(this.idx, this.items.length - 1)];
    this.idx++;
    if (it === undefined) throw new Error('internal: no tokens');
    return it;
  }

  private next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.lexNext();
    return this.token[this.peekCount] as Item;
  }

  private backup(): void { this.peekCount++; }

  private backup2(t1: Item): void { this.token[1] = t1; this.peekCount = 2; }

  private backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }

  private peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1] as Item;
    this.peekCount = 1;
    this.token[0] = this.lexNext();
    return this.token[0];
  }

  private nextNonSpace(): Item {
    let t: Item;
    do { t = this.next(); } while (t.typ === T.Space);
    return t;
  }

  private peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  private errorf(msg: string): never {
    const tok = this.token[0];
    const line = tok?.line ?? 1;
    const col = positionOf(this.text, tok?.pos ?? 0).column;
    throw new TemplateError(`template: :${line}: ${msg}`, { line, column: col });
  }

  private unexpected(token: Item, context: string): never {
    if (token.typ === T.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at :${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${itemString(token)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  private expect(expected: T, context: string): Item {
    const t = this.nextNonSpace();
    if (t.typ !== expected) this.unexpected(t, context);
    return t;
  }

  parseTop(): ParsedTree {
    const root: ListNode = { type: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().typ !== T.EOF) {
      if (this.peek().typ === T.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === T.Define) { this.parseDefinition(); continue; }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    return { text: this.text, root, defs: this.defs };
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const name = this.nextNonSpace();
    if (name.typ !== T.String && name.typ !== T.RawString) this.unexpected(name, context);
    const defName = this.unquote(name.val);
    this.expect(T.RightDelim, context);
    const saved = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    this.vars = saved;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.addDef(defName, list);
  }

  private addDef(name: string, list: ListNode): void {
    const old = this.defs.get(name);
    if (old !== undefined && !isEmptyTree(old) && !isEmptyTree(list)) {
      this.errorf(`template: multiple definition of template ${JSON.stringify(name)}`);
    }
    if (old === undefined || isEmptyTree(old)) this.defs.set(name, list);
  }

  private unquote(lit: string): string {
    try {
      return goUnquote(lit);
    } catch (err) {
      return this.errorf((err as Error).message);
    }
  }

  private itemList(): [ListNode, Node] {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().typ !== T.EOF) {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    return this.errorf('unexpected EOF');
  }

  private textOrAction(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Text: return { type: 'text', pos: token.pos, text: token.val };
      case T.LeftDelim: {
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      case T.Comment: return { type: 'comment', pos: token.pos, text: token.val };
      default: return this.unexpected(token, 'input');
    }
  }

  private action(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Block: return this.blockControl();
      case T.Break: case T.Continue: return this.breakControl(token);
      case T.Else: return this.elseControl();
      case T.End: return { type: 'end', pos: this.expect(T.RightDelim, 'end').pos, line: token.line };
      case T.If: return this.branch('if', true);
      case T.Range: return this.branch('range', false);
      case T.Template: return this.templateControl();
      case T.With: return this.branch('with', false);
      default: break;
    }
    this.backup();
    const t = this.peek();
    return { type: 'action', pos: t.pos, line: t.line, pipe: this.pipeline('command', T.RightDelim) };
  }

  private breakControl(token: Item): Node {
    const kw = token.typ === T.Break ? 'break' : 'continue';
    const t = this.nextNonSpace();
    if (t.typ !== T.RightDelim) this.unexpected(t, `{{${kw}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kw}}} outside {{range}}`);
    return { type: kw, pos: token.pos, line: token.line };
  }

  private pipeline(context: string, end: T): PipeNode {
    const token = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: token.pos, line: token.line, isAssign: false, decl: [], cmds: [] };
    this.declarations(pipe, context);
    for (;;) {
      const t = this.nextNonSpace();
      if (t.typ === end) { this.checkPipeline(pipe, context); return pipe; }
      switch (t.typ) {
        case T.Bool: case T.CharConstant: case T.Complex: case T.Dot: case T.Field: case T.Identifier:
        case T.Number: case T.Nil: case T.RawString: case T.String: case T.Variable: case T.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default: this.unexpected(t, context);
      }
    }
  }

  private declarations(pipe: PipeNode, context: string): void {
    for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== T.Variable) return;
      this.next();
      const tokenAfterVariable = this.peek();
      const nxt = this.peekNonSpace();
      if (nxt.typ === T.Assign || nxt.typ === T.Declare) {
        pipe.isAssign = nxt.typ === T.Assign;
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        return;
      }
      if (nxt.typ === T.Char && nxt.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const pk = this.peekNonSpace().typ;
          if (pk === T.Variable || pk === T.RightDelim || pk === T.RightParen) continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      if (tokenAfterVariable.typ === T.Space) this.backup3(v, tokenAfterVariable);
      else this.backup2(v);
      return;
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]?.type;
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private branch(kind: 'if' | 'range' | 'with', allowElseIf: boolean): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, T.RightDelim);
    if (kind === 'range') this.rangeDepth++;
    const [list, first] = this.itemList();
    let nxt = first;
    if (kind === 'range') this.rangeDepth--;
    let elseList: ListNode | undefined;
    if (nxt.type === 'else') {
      const pk = this.peek().typ;
      if ((allowElseIf && pk === T.If) || (kind === 'with' && pk === T.With)) {
        this.next();
        elseList = { type: 'list', pos: nxt.pos, nodes: [this.branch(kind, allowElseIf)] };
      } else {
        [elseList, nxt] = this.itemList();
        if (nxt.type !== 'end') this.errorf(`expected end; found ${nodeString(nxt)}`);
      }
    }
    this.vars.length = mark;
    return { type: kind, pos: pipe.pos, line: pipe.line, pipe, list, elseList };
  }

  private elseControl(): Node {
    const pk = this.peekNonSpace();
    if (pk.typ === T.If || pk.typ === T.With) return { type: 'else', pos: pk.pos, line: pk.line };
    const t = this.expect(T.RightDelim, 'else');
    return { type: 'else', pos: t.pos, line: t.line };
  }

  private templateName(token: Item, context: string): string {
    if (token.typ !== T.String && token.typ !== T.RawString) this.unexpected(token, context);
    return this.unquote(token.val);
  }

  private blockControl(): Node {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.templateName(token, context);
    const pipe = this.pipeline(context, T.RightDelim);
    const saved = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    this.vars = saved;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.addDef(name, list);
    return { type: 'template', pos: token.pos, line: token.line, name, pipe };
  }

  private templateControl(): Node {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.templateName(token, context);
    let pipe: PipeNode | undefined;
    if (this.nextNonSpace().typ !== T.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, T.RightDelim);
    }
    return { type: 'template', pos: token.pos, line: token.line, name, pipe };
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== undefined) cmd.args.push(operand);
      const t = this.next();
      if (t.typ === T.Space) continue;
      if (t.typ === T.RightDelim || t.typ === T.RightParen) this.backup();
      else if (t.typ !== T.Pipe) this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (node === undefined || this.peek().typ !== T.Field) return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().typ === T.Field) fields.push(this.next().val.slice(1));
    switch (node.type) {
      case 'field': return { type: 'field', pos, ident: [...node.ident, ...fields] };
      case 'variable': return { type: 'variable', pos, ident: [...node.ident, ...fields] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        return this.errorf(`unexpected . after term ${JSON.stringify(nodeString(node))}`);
      default: return { type: 'chain', pos, node, field: fields };
    }
  }

  private term(): ArgNode | undefined {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Identifier:
        if (!this.hasFunction(token.val)) this.errorf(`function ${JSON.stringify(token.val)} not defined`);
        return { type: 'identifier', pos: token.pos, ident: token.val };
      case T.Dot: return { type: 'dot', pos: token.pos };
      case T.Nil: return { type: 'nil', pos: token.pos };
      case T.Variable: return this.useVar(token.pos, token.val);
      case T.Field: return { type: 'field', pos: token.pos, ident: token.val.slice(1).split('.') };
      case T.Bool: return { type: 'bool', pos: token.pos, value: token.val === 'true' };
      case T.CharConstant: case T.Complex: case T.Number: {
        const r = parseNumber(token.val, token.typ === T.CharConstant, token.typ === T.Complex);
        if (typeof r === 'string') this.errorf(r);
        return { type: 'number', pos: token.pos, num: r };
      }
      case T.LeftParen: return this.pipeline('parenthesized pipeline', T.RightParen);
      case T.String: case T.RawString:
        return { type: 'string', pos: token.pos, quoted: token.val, text: this.unquote(token.val) };
      default:
        this.backup();
        return undefined;
    }
  }

  private newVariable(pos: number, ident: string): VariableNode {
    return { type: 'variable', pos, ident: ident.split('.') };
  }

  private useVar(pos: number, name: string): VariableNode {
    const v = this.newVariable(pos, name);
    if (!this.vars.includes(v.ident[0] ?? '')) this.errorf(`undefined variable ${JSON.stringify(v.ident[0])}`);
    return v;
  }
}

/** True when a list holds only whitespace text and comments (Go's IsEmptyTree). */
function isEmptyTree(list: ListNode): boolean {
  return list.nodes.every((n) => n.type === 'comment' || (n.type === 'text' && n.text.trim() === ''));
}

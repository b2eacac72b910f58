/**
 * Parse-tree nodes of the template language (Go's parse/node.go) and their
 * String() forms, which Go quotes in execution errors (`at <.Foo>`).
 */

/** A parsed number literal. */
export interface NumberInfo {
  isInt: boolean;
  isFloat: boolean;
  int: bigint;
  float: number;
  text: string;
}

/** Any node; `pos` is a JS string index into the template text. */
export type Node =
  | { type: 'text'; pos: number; text: string }
  | { type: 'comment'; pos: number; text: string }
  | { type: 'action'; pos: number; line: number; pipe: PipeNode }
  | BranchNode
  | { type: 'break' | 'continue'; pos: number; line: number }
  | { type: 'template'; pos: number; line: number; name: string; pipe: PipeNode | undefined }
  | ListNode | PipeNode | CommandNode | ArgNode
  | { type: 'end' | 'else'; pos: number; line: number };

/** if / range / with. */
export interface BranchNode {
  type: 'if' | 'range' | 'with'; pos: number; line: number; pipe: PipeNode; list: ListNode; elseList: ListNode | undefined;
}

/** A list of nodes. */
export interface ListNode { type: 'list'; pos: number; nodes: Node[] }

/** A variable reference `$x.F.G` (ident[0] includes the `$`). */
export interface VariableNode { type: 'variable'; pos: number; ident: string[] }

/** A pipeline with optional declarations. */
export interface PipeNode {
  type: 'pipe'; pos: number; line: number; isAssign: boolean; decl: VariableNode[]; cmds: CommandNode[];
}

/** A command: operands separated by spaces. */
export interface CommandNode { type: 'command'; pos: number; args: ArgNode[] }

/** Operands. */
export type ArgNode =
  | { type: 'field'; pos: number; ident: string[] }
  | { type: 'chain'; pos: number; node: ArgNode; field: string[] }
  | { type: 'identifier'; pos: number; ident: string }
  | VariableNode
  | { type: 'dot'; pos: number }
  | { type: 'nil'; pos: number }
  | { type: 'bool'; pos: number; value: boolean }
  | { type: 'number'; pos: number; num: NumberInfo }
  | { type: 'string'; pos: number; quoted: string; text: string }
  | PipeNode;

function pipeString(p: PipeNode): string {
  let s = '';
  if (p.decl.length > 0) s = p.decl.map(nodeString).join(', ') + ' := ';
  return s + p.cmds.map(nodeString).join(' | ');
}

function commandString(c: CommandNode): string {
  return c.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
}

/** Go's Node.String() for a node. */
export function nodeString(n: Node): string {
  switch (n.type) {
    case 'text': return JSON.stringify(n.text);
    case 'comment': return `{{${n.text}}}`;
    case 'action': return `{{${pipeString(n.pipe)}}}`;
    case 'if': case 'range': case 'with': {
      const els = n.elseList ? `{{else}}${nodeString(n.elseList)}` : '';
      return `{{${n.type} ${pipeString(n.pipe)}}}${nodeString(n.list)}${els}{{end}}`;
    }
    case 'break': case 'continue': case 'end': case 'else': return `{{${n.type}}}`;
    case 'template': {
      const pipe = n.pipe ? ' ' + pipeString(n.pipe) : '';
      return `{{template ${JSON.stringify(n.name)}${pipe}}}`;
    }
    case 'list': return n.nodes.map(nodeString).join('');
    case 'pipe': return pipeString(n);
    case 'command': return commandString(n);
    case 'field': return n.ident.map((i) => '.' + i).join('');
    case 'chain': {
      const head = n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node);
      return head + n.field.map((f) => '.' + f).join('');
    }
    case 'identifier': return n.ident;
    case 'variable': return n.ident.join('.');
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return n.value ? 'true' : 'false';
    case 'number': return n.num.text;
    case 'string': return n.quoted;
  }
}

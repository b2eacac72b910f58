/**
 * Turns syntax-tree nodes into typed instructions, checking arguments and
 * flags as BuildKit's instructions/parse.go does and expanding words where
 * Docker expands them.
 */
import type { DockerfileNode } from './ast.js';
import { UnpositionedError, withSuggestion } from './errors.js';
import { INSTRUCTION_FLAGS, parseFlags, parseGoDuration } from './flags.js';
import type { FlagValues } from './flags.js';
import { parseMount, splitCsv } from './mounts.js';
import { chompHeredoc, parseHeredocWord } from './parser.js';
import { parseExposePorts } from './ports.js';
import { runExec } from './run-exec.js';
import { checkSignal } from './signal.js';
import type {
  AddInstruction, ArgInstruction, CopyInstruction, HealthConfig, Instruction, KeyValue, RunInstruction, Scope,
} from './types.js';

/** Word expansion in one scope (see definition.ts). */
export interface Expander {
  /** Expands one word (ProcessWord). */
  word(s: string): string;
  /** Expands then splits (ProcessWords). */
  words(s: string): string[];
  /** Expands a heredoc body: quotes are ordinary characters. */
  raw(s: string): string;
  /** False when only checking syntax: checks that need expanded values are skipped. */
  readonly expanding: boolean;
}

/** Every instruction name, for "did you mean". */
export const INSTRUCTION_NAMES: readonly string[] = [
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label', 'maintainer',
  'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
];

const err = (m: string): UnpositionedError => new UnpositionedError(m);

/** Parses a node's flags against the flags its instruction accepts. */
export function nodeFlags(node: DockerfileNode): FlagValues {
  return parseFlags(node.flags, INSTRUCTION_FLAGS[node.instruction] ?? {});
}

/** Throws BuildKit's unknown-instruction error (with a suggestion) unless `name` is an instruction. */
export function checkKnown(name: string, written: string): void {
  if (INSTRUCTION_NAMES.includes(name)) return;
  const upper = INSTRUCTION_NAMES.map((n) => n.toUpperCase());
  throw err(withSuggestion(`unknown instruction: ${written.toUpperCase()}`, written.toUpperCase(), upper, false));
}

function pairs(node: DockerfileNode, name: string, ex: Expander): KeyValue[] {
  const raw = node.pairs ?? [];
  if (raw.length === 0) throw err(`${name} requires at least one argument`);
  return raw.map((p) => {
    if (p.key === '') throw err(`${name} names can not be blank`);
    return { key: ex.word(p.key), value: ex.word(p.value) };
  });
}

function exactlyOne(node: DockerfileNode, name: string): string {
  if (node.args.length !== 1) throw err(`${name} requires exactly one argument`);
  return node.args[0] ?? '';
}

function commandLine(node: DockerfileNode): string[] {
  return node.json ? [...node.args] : [node.args.join(' ')];
}

function sourcesAndDest(node: DockerfileNode, name: string, ex: Expander) {
  if (node.args.length < 2) {
    throw err(`${name} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  const dest = node.args[node.args.length - 1] ?? '';
  if (parseHeredocWord(dest)) throw err(`${name} cannot accept a heredoc as a destination`);
  const sources: string[] = [];
  const inline: { path: string; data: string }[] = [];
  for (const src of node.args.slice(0, -1)) {
    const h = node.json ? undefined : parseHeredocWord(src);
    if (!h) {
      sources.push(ex.word(src));
      continue;
    }
    let data = node.heredocs.find((d) => d.name === h.name)?.content ?? '';
    if (h.chomp) data = chompHeredoc(data);
    inline.push({ path: h.name, data: h.expand ? ex.raw(data) : data });
  }
  return { sources, inline, dest: ex.word(dest) };
}

function copyCommon(f: FlagValues, ex: Expander) {
  const chown = f.strings.get('chown');
  const chmod = f.strings.get('chmod');
  return {
    ...(chown !== undefined && chown !== '' ? { chown: ex.word(chown) } : {}),
    ...(chmod !== undefined && chmod !== '' ? { chmod: ex.word(chmod) } : {}),
    link: f.bools.get('link') ?? false,
    excludes: (f.lists.get('exclude') ?? []).map((e) => ex.word(e)),
  };
}

type Head = { line: number; endLine: number; original: string; scope: Scope };

function copy(node: DockerfileNode, head: Head, ex: Expander): CopyInstruction {
  const f = nodeFlags(node);
  const sd = sourcesAndDest(node, 'COPY', ex);
  const from = f.strings.get('from');
  if (from !== undefined && from !== '' && ex.word(from) !== from) {
    throw err('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
  }
  return {
    kind: 'copy', ...head, ...sd, ...copyCommon(f, ex),
    ...(from !== undefined && from !== '' ? { from } : {}),
    parents: f.bools.get('parents') ?? false,
  };
}

function add(node: DockerfileNode, head: Head, ex: Expander): AddInstruction {
  const f = nodeFlags(node);
  const sd = sourcesAndDest(node, 'ADD', ex);
  const checksum = f.strings.get('checksum');
  const c = checksum === undefined || checksum === '' ? undefined : ex.word(checksum);
  if (c !== undefined && ex.expanding && !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(c)) {
    throw err(`invalid checksum digest format: ${c}`);
  }
  if (c !== undefined && ex.expanding) {
    // BuildKit's dispatchCopy checks these once the sources are expanded.
    if (sd.sources.length !== 1) throw err("checksum can't be specified for multiple sources");
    if (!/^https?:\/\//.test(sd.sources[0] ?? '')) throw err('checksum requires HTTP(S) or Git sources');
  }
  return {
    kind: 'add', ...head, ...sd, ...copyCommon(f, ex),
    keepGitDir: f.bools.get('keep-git-dir') ?? false,
    ...(c !== undefined ? { checksum: c } : {}),
  };
}

function run(node: DockerfileNode, head: Head, ex: Expander): RunInstruction {
  const f = nodeFlags(node);
  const mounts = (f.lists.get('mount') ?? []).flatMap((m) => {
    for (const field of splitCsv(m)) {
      const [k, v] = [field.slice(0, field.indexOf('=')).toLowerCase(), field.slice(field.indexOf('=') + 1)];
      if (k === 'from' && /\$./.test(v)) throw err("'from' doesn't support variable expansion, define alias stage instead");
    }
    return ex.expanding ? [parseMount(m, (w) => ex.word(w))] : [];
  });
  const network = f.strings.get('network');
  if (network !== undefined && !['default', 'none', 'host'].includes(network)) {
    throw err(`unsupported network mode ${JSON.stringify(network)}`);
  }
  const security = f.strings.get('security');
  if (security !== undefined && !['sandbox', 'insecure'].includes(security)) {
    throw err(`unsupported security mode ${JSON.stringify(security)}`);
  }
  const command = commandLine(node);
  return {
    kind: 'run', ...head, form: node.json ? 'exec' : 'shell', command, heredocs: node.heredocs, mounts,
    ...(network !== undefined ? { network: network as RunInstruction['network'] } : {}),
    ...(security !== undefined ? { security: security as RunInstruction['security'] } : {}),
    exec: runExec(command, !node.json, node.heredocs),
  };
}

function interval(f: FlagValues, name: string): number | undefined {
  const v = f.strings.get(name);
  if (v === undefined || v === '') return undefined;
  const d = parseGoDuration(v);
  if (d !== 0 && d < 1e6) throw err(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
  return d;
}

function healthcheck(node: DockerfileNode): HealthConfig {
  if (node.args.length === 0) throw err('HEALTHCHECK requires at least one argument');
  const typ = (node.args[0] ?? '').toUpperCase();
  const args = node.args.slice(1);
  if (typ === 'NONE') {
    if (args.length !== 0) throw err('HEALTHCHECK NONE takes no arguments');
    return { test: ['NONE'] };
  }
  const f = nodeFlags(node);
  if (typ !== 'CMD') throw err(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = node.json ? args : [args.join(' ')];
  if (cmd.length === 0 || (!node.json && args.length === 0)) throw err('Missing command after HEALTHCHECK CMD');
  const h: HealthConfig = { test: [node.json ? 'CMD' : 'CMD-SHELL', ...cmd] };
  const fields = [['interval', 'interval'], ['timeout', 'timeout'], ['start-period', 'startPeriod'],
    ['start-interval', 'startInterval']] as const;
  for (const [flag, key] of fields) {
    const d = interval(f, flag);
    if (d !== undefined) h[key] = d;
  }
  const retries = f.strings.get('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries)) throw err(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    const n = Number.parseInt(retries, 10);
    if (n < 0) throw err(`--retries cannot be negative (${n})`);
    h.retries = n;
  }
  return h;
}

function arg(node: DockerfileNode, head: Head): ArgInstruction {
  nodeFlags(node);
  if (node.args.length === 0) throw err('ARG requires at least one argument');
  return {
    kind: 'arg', ...head,
    args: node.args.map((a) => {
      const eq = a.indexOf('=');
      if (eq === 0) throw err('ARG names can not be blank');
      return eq < 0 ? { key: a } : { key: a.slice(0, eq), default: a.slice(eq + 1) };
    }),
  };
}

function onbuild(node: DockerfileNode, head: Head): Instruction {
  nodeFlags(node);
  if (node.args.length === 0 || !node.sub) throw err('ONBUILD requires at least one argument');
  const trigger = node.sub.instruction.toUpperCase();
  if (trigger === 'ONBUILD') throw err('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') throw err(`${trigger} isn't allowed as an ONBUILD trigger`);
  return { kind: 'onbuild', ...head, expression: node.original.replace(/^\s*ONBUILD\s*/i, '') };
}

function simple(node: DockerfileNode, head: Head, ex: Expander): Instruction {
  switch (node.instruction) {
    case 'cmd':
      nodeFlags(node);
      return { kind: 'cmd', ...head, form: node.json ? 'exec' : 'shell', command: commandLine(node) };
    case 'entrypoint':
      nodeFlags(node);
      return { kind: 'entrypoint', ...head, form: node.json ? 'exec' : 'shell', command: commandLine(node) };
    case 'shell':
      nodeFlags(node);
      if (node.args.length === 0) throw err('SHELL requires at least one argument');
      if (!node.json) throw err('SHELL requires the arguments to be in JSON form');
      return { kind: 'shell', ...head, shell: [...node.args] };
    case 'maintainer':
      return { kind: 'maintainer', ...head, maintainer: exactlyOne(node, 'MAINTAINER') };
    case 'user':
      return { kind: 'user', ...head, user: ex.word(exactlyOne(node, 'USER')) };
    case 'workdir':
      return { kind: 'workdir', ...head, path: ex.word(exactlyOne(node, 'WORKDIR')) };
    case 'stopsignal': {
      const signal = ex.word(exactlyOne(node, 'STOPSIGNAL'));
      if (ex.expanding) checkSignal(signal);
      return { kind: 'stopsignal', ...head, signal };
    }
    default:
      return listLike(node, head, ex);
  }
}

function listLike(node: DockerfileNode, head: Head, ex: Expander): Instruction {
  switch (node.instruction) {
    case 'volume': {
      if (node.args.length === 0) throw err('VOLUME requires at least one argument');
      const volumes = node.args.map((v) => {
        const e = ex.word(v).trim();
        if (e === '') throw err('VOLUME specified can not be an empty string');
        return e;
      });
      return { kind: 'volume', ...head, volumes };
    }
    case 'expose': {
      if (node.args.length === 0) throw err('EXPOSE requires at least one argument');
      const words = node.args.flatMap((p) => ex.words(p));
      return { kind: 'expose', ...head, ports: ex.expanding ? parseExposePorts(words) : words };
    }
    case 'env':
      return { kind: 'env', ...head, pairs: pairs(node, 'ENV', ex) };
    case 'label':
      return { kind: 'label', ...head, pairs: pairs(node, 'LABEL', ex) };
    default:
      throw err(`unknown instruction: ${node.instruction.toUpperCase()}`);
  }
}

/**
 * Types one non-FROM node. Throws UnpositionedError (the caller adds the
 * line) for an unknown instruction, bad flags or arguments, or an
 * expansion error.
 */
export function toInstruction(node: DockerfileNode, scope: Scope, ex: Expander): Instruction {
  checkKnown(node.instruction, node.original.trim().split(/\s+/)[0] ?? node.instruction);
  const head: Head = { line: node.startLine, endLine: node.endLine, original: node.original.trim(), scope };
  switch (node.instruction) {
    case 'run':
      return run(node, head, ex);
    case 'copy':
      return copy(node, head, ex);
    case 'add':
      return add(node, head, ex);
    case 'arg':
      return arg(node, head);
    case 'onbuild':
      return onbuild(node, head);
    case 'healthcheck':
      return { kind: 'healthcheck', ...head, health: healthcheck(node) };
    case 'from':
      throw err('FROM is handled by the stage parser');
    default:
      if (node.instruction !== 'cmd' && node.instruction !== 'entrypoint' && node.instruction !== 'shell') {
        nodeFlags(node);
      }
      return simple(node, head, ex);
  }
}

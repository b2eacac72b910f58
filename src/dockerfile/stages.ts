/**
 * The static shape of a Dockerfile: global ARGs, stages, their names and
 * the dependency graph between them, checked before anything is expanded.
 */
import type { DockerfileNode, DockerfileWarning, ParseResult } from './ast.js';
import { UnpositionedError, atLine, positioned, withSuggestion } from './errors.js';
import { checkKnown, nodeFlags, toInstruction } from './instructions.js';
import type { Expander } from './instructions.js';
import { splitCsv } from './mounts.js';
import { splitWhitespace } from './text.js';

/** A stage before expansion. */
export interface StageSkeleton {
  index: number;
  name?: string;
  from: DockerfileNode;
  nodes: DockerfileNode[];
  /** Raw stage references (COPY --from, RUN --mount from=), with the node they appear in. */
  refs: { ref: string; node: DockerfileNode; kind: 'copy' | 'mount' }[];
}

/** Global ARG nodes and stages of a parsed Dockerfile. */
export interface Skeleton {
  metaArgs: DockerfileNode[];
  stages: StageSkeleton[];
  /** Lint warnings found on the way (DuplicateStageName). */
  warnings: DockerfileWarning[];
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** An expander that leaves words as written (syntax checking only). */
export const IDENTITY: Expander = {
  word: (s) => s,
  words: (s) => splitWhitespace(s, -1).filter((w) => w !== ''),
  raw: (s) => s,
  expanding: false,
};

const EMPTY_SCOPE = { env: {}, args: {} };

/** Checks one non-FROM node's syntax without expanding anything (throws UnpositionedError). */
export function validateNode(node: DockerfileNode): void {
  toInstruction(node, EMPTY_SCOPE, IDENTITY);
}

/** Checks a FROM line's arguments and flags; returns the lower-case stage name. */
export function fromStageName(node: DockerfileNode): string | undefined {
  const args = node.args;
  nodeFlags(node);
  if (args.length === 3 && (args[1] ?? '').toLowerCase() === 'as') {
    const name = (args[2] ?? '').toLowerCase();
    if (!STAGE_NAME.test(name)) {
      throw new UnpositionedError(
        `invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`,
      );
    }
    return name;
  }
  if (args.length !== 1) throw new UnpositionedError('FROM requires either one or three arguments');
  return undefined;
}

function mountRefs(node: DockerfileNode): string[] {
  const refs: string[] = [];
  for (const flag of node.flags) {
    if (!flag.startsWith('--mount=')) continue;
    let type = 'bind';
    let from: string | undefined;
    for (const field of splitCsv(flag.slice('--mount='.length))) {
      const eq = field.indexOf('=');
      const k = field.slice(0, eq < 0 ? field.length : eq).toLowerCase();
      if (k === 'type') type = field.slice(eq + 1).toLowerCase();
      if (k === 'from') from = field.slice(eq + 1);
    }
    if (from !== undefined && from !== '' && (type === 'bind' || type === 'cache')) refs.push(from);
  }
  return refs;
}

function collectRefs(stage: StageSkeleton, node: DockerfileNode): void {
  const n = node.instruction === 'onbuild' ? undefined : node;
  if (!n) return;
  if (n.instruction === 'copy') {
    const from = nodeFlags(n).strings.get('from');
    if (from !== undefined && from !== '') stage.refs.push({ ref: from, node: n, kind: 'copy' });
  }
  if (n.instruction === 'run') for (const ref of mountRefs(n)) stage.refs.push({ ref, node: n, kind: 'mount' });
}

/**
 * Splits the nodes into global ARGs and stages and checks every instruction's
 * syntax (unknown instructions, flags, argument counts, stage names), as
 * BuildKit's instructions.Parse does for the whole file (with `validate`
 * false, only the structure: instruction names, FROM lines and stage
 * references). Throws DockerfileError.
 */
export function skeleton(parsed: ParseResult, validate = true): Skeleton {
  const { fileName } = parsed;
  const metaArgs: DockerfileNode[] = [];
  const stages: StageSkeleton[] = [];
  const names = new Set<string>();
  const warnings: DockerfileWarning[] = [];
  for (const node of parsed.nodes) {
    atLine(fileName, node.startLine, node.endLine, () => {
      checkKnown(node.instruction, node.original.trim().split(/\s+/)[0] ?? node.instruction);
      if (node.instruction === 'from') {
        const name = fromStageName(node);
        if (name !== undefined) {
          // BuildKit only lints this (DuplicateStageName); later references see the last stage of that name.
          if (names.has(name)) {
            warnings.push({ rule: 'DuplicateStageName', message: `Duplicate stage name ${JSON.stringify(name)}, stage names should be unique`, line: node.startLine });
          }
          names.add(name);
        }
        stages.push({ index: stages.length, ...(name !== undefined ? { name } : {}), from: node, nodes: [], refs: [] });
        return;
      }
      if (validate) validateNode(node);
      const current = stages[stages.length - 1];
      if (!current) {
        if (node.instruction === 'arg') {
          metaArgs.push(node);
          return;
        }
        throw new UnpositionedError(`no build stage in current context: ${node.instruction.toUpperCase()} before the first FROM (only ARG may come before FROM)`);
      }
      current.nodes.push(node);
      collectRefs(current, node);
    });
  }
  if (stages.length === 0) {
    const last = parsed.nodes[parsed.nodes.length - 1];
    throw positioned(new UnpositionedError('dockerfile contains no stages to build: no FROM instruction'), fileName, last?.startLine ?? 0);
  }
  return { metaArgs, stages, warnings };
}

/** The last stage named `lower` (BuildKit's name map keeps the last one of duplicates). */
function lastNamed(stages: readonly StageSkeleton[], lower: string): StageSkeleton | undefined {
  for (let i = stages.length - 1; i >= 0; i--) if (stages[i]?.name === lower) return stages[i];
  return undefined;
}

/** Resolves a `--from` value to a stage index, or undefined for an image. Throws on a bad index. */
export function resolveStageRef(ref: string, stages: readonly StageSkeleton[], allowIndex: boolean): number | undefined {
  if (allowIndex && /^[+-]?\d+$/.test(ref)) {
    const i = Number.parseInt(ref, 10);
    if (i < 0 || i >= stages.length) throw new UnpositionedError(`invalid stage index ${i}`);
    return i;
  }
  return lastNamed(stages, ref.toLowerCase())?.index;
}

/** Throws `circular dependency detected on stage: X` when the graph has a cycle. */
export function checkCycles(deps: readonly (readonly number[])[], names: readonly string[]): void {
  const state = new Array<number>(deps.length).fill(0);
  const visit = (i: number): void => {
    if (state[i] === 2) return;
    if (state[i] === 1) throw new UnpositionedError(`circular dependency detected on stage: ${names[i] ?? i}`);
    state[i] = 1;
    for (const d of deps[i] ?? []) visit(d);
    state[i] = 2;
  };
  for (let i = 0; i < deps.length; i++) visit(i);
}

/** The stages `target` needs (itself included), in file order. */
export function neededStages(target: number, deps: readonly (readonly number[])[]): number[] {
  const seen = new Set<number>();
  const stack = [target];
  while (stack.length > 0) {
    const i = stack.pop() ?? 0;
    if (seen.has(i)) continue;
    seen.add(i);
    stack.push(...(deps[i] ?? []));
  }
  return [...seen].sort((a, b) => a - b);
}

/** Finds the `--target` stage by name (case-insensitive); throws with a suggestion when absent. */
export function findTarget(target: string | undefined, stages: readonly StageSkeleton[]): number {
  if (target === undefined || target === '') return stages.length - 1;
  const lower = target.toLowerCase();
  const found = lastNamed(stages, lower);
  if (found) return found.index;
  const names = stages.flatMap((s) => (s.name ? [s.name] : []));
  throw new UnpositionedError(withSuggestion(`target stage ${JSON.stringify(target)} could not be found`, lower, names, false));
}

/**
 * buildDefinition: Dockerfile text + build args + target → typed, expanded
 * stages with their dependency graph, following BuildKit's dockerfile2llb
 * (global ARG scope, stage ARG scoping, ENV seeing old values, ONBUILD).
 */
import type { DockerfileNode, DockerfileWarning, ParseResult } from './ast.js';
import { DockerfileError, UnpositionedError, atLine, positioned } from './errors.js';
import { toInstruction } from './instructions.js';
import { nodeFromLine, parseDockerfile } from './parser.js';
import { DEFAULT_PATH, PROXY_ARGS, hostPlatform, parsePlatform, platformArgs } from './platform.js';
import { emptyVars, expanderFor, varsFromList, withVar, withVars } from './scope.js';
import { IDENTITY, checkCycles, findTarget, neededStages, resolveStageRef, skeleton, validateNode } from './stages.js';
import type { Skeleton, StageSkeleton } from './stages.js';
import type { ArgDeclaration, BuildDefinition, Instruction, MetaArg, Platform, Scope, Stage } from './types.js';

/** What the builder knows about a base image (from its config), when it knows it. */
export interface BaseImageInfo {
  /** The image config's Env (`K=V`). */
  env?: readonly string[];
  /** The image config's OnBuild triggers. */
  onBuild?: readonly string[];
}

/** Options of buildDefinition. */
export interface BuildDefinitionOptions {
  text: string;
  fileName?: string;
  /** `--build-arg` values. */
  buildArgs?: Readonly<Record<string, string>>;
  /** `--target` stage name; default the last stage. */
  target?: string;
  /** Target platform; default the build platform. */
  platform?: Platform;
  /** Build platform; default this machine's. */
  buildPlatform?: Platform;
  /**
   * Looks up a base image's config (Env and OnBuild) so that expansion sees
   * its variables and its triggers run. Without it images are treated as
   * having only PATH. The builder may call buildDefinition once without it
   * to learn the base images (`stages[].baseName`), resolve them, and again.
   */
  baseImage?: (ref: string, platform: Platform) => BaseImageInfo | undefined;
}

interface Ctx {
  fileName: string;
  esc: string;
  buildArgs: Readonly<Record<string, string>>;
  globals: Readonly<Record<string, string>>;
  warnings: DockerfileWarning[];
  sk: Skeleton;
}

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function metaArgs(ctx: Ctx, nodes: readonly DockerfileNode[], defaults: Record<string, string>, consumed: Set<string>): MetaArg[] {
  let globals: Record<string, string> = emptyVars();
  for (const [k, v] of Object.entries(defaults)) globals[k] = has(ctx.buildArgs, k) ? (ctx.buildArgs[k] ?? '') : v;
  const out: MetaArg[] = [];
  for (const node of nodes) {
    atLine(ctx.fileName, node.startLine, node.endLine, () => {
      const ins = toInstruction(node, { env: globals, args: emptyVars() }, IDENTITY);
      if (ins.kind !== 'arg') return;
      for (const decl of ins.args) {
        let value: string | undefined;
        if (has(ctx.buildArgs, decl.key)) {
          value = ctx.buildArgs[decl.key];
          consumed.add(decl.key);
        } else if (decl.default !== undefined) value = expanderFor(globals, ctx.esc).word(decl.default);
        else if (has(globals, decl.key)) value = globals[decl.key];
        if (value !== undefined) globals = withVar(globals, decl.key, value);
        out.push({ key: decl.key, ...(value !== undefined ? { value } : {}), line: node.startLine });
      }
    });
  }
  ctx.globals = globals;
  return out;
}

function stageHeads(ctx: Ctx, target: Platform): Stage[] {
  const byName = new Map<string, number>();
  return ctx.sk.stages.map((s) => {
    const node = s.from;
    const stage = atLine(ctx.fileName, node.startLine, node.endLine, () => {
      const unmatched = new Set<string>();
      const ex = expanderFor(ctx.globals, ctx.esc, unmatched);
      const raw = node.args[0] ?? '';
      const baseName = ex.word(raw);
      if (baseName === '') throw new UnpositionedError(`base name (${raw}) should not be blank`);
      const flag = node.flags.find((f) => f.startsWith('--platform='));
      const platformText = flag === undefined ? '' : ex.word(flag.slice('--platform='.length));
      for (const name of unmatched) {
        ctx.warnings.push({ rule: 'UndefinedArgInFrom', message: `FROM argument '${name}' is not declared`, line: node.startLine });
      }
      const baseStage = byName.get(baseName);
      const st: Stage = {
        index: s.index, line: node.startLine, baseName,
        platform: platformText === '' ? target : parsePlatform(platformText),
        explicitPlatform: platformText !== '',
        instructions: [], dependsOn: baseStage === undefined ? [] : [baseStage], imageSources: [], needed: false,
      };
      if (s.name !== undefined) st.name = s.name;
      if (baseStage !== undefined) st.baseStage = baseStage;
      return st;
    });
    if (s.name !== undefined) byName.set(s.name, s.index);
    return stage;
  });
}

function addRef(ctx: Ctx, stage: Stage, ref: string, kind: 'copy' | 'mount', line: number): number | undefined {
  const idx = atLine(ctx.fileName, line, line, () => {
    const i = resolveStageRef(ref, ctx.sk.stages, kind === 'copy');
    if (i === stage.index) {
      throw new UnpositionedError(`circular dependency detected on stage: ${stage.name ?? `stage-${stage.index}`}`);
    }
    return i;
  });
  if (idx === undefined) {
    if (!stage.imageSources.includes(ref)) stage.imageSources.push(ref);
  } else if (!stage.dependsOn.includes(idx)) stage.dependsOn.push(idx);
  return idx;
}

function applyArg(ctx: Ctx, scope: Scope, decls: readonly ArgDeclaration[], consumed: Set<string>): [Scope, ArgDeclaration[]] {
  let { env, args } = scope;
  const out: ArgDeclaration[] = [];
  for (const decl of decls) {
    let value: string | undefined;
    if (has(ctx.buildArgs, decl.key)) {
      value = ctx.buildArgs[decl.key];
      consumed.add(decl.key);
    } else if (decl.default !== undefined) value = expanderFor(env, ctx.esc).word(decl.default);
    else if (has(ctx.globals, decl.key)) value = ctx.globals[decl.key];
    if (value !== undefined) {
      env = withVar(env, decl.key, value);
      args = withVar(args, decl.key, value);
    }
    out.push({ key: decl.key, ...(decl.default !== undefined ? { default: decl.default } : {}), ...(value !== undefined ? { value } : {}) });
  }
  return [{ env, args }, out];
}

interface StageRun {
  scope: Scope;
  consumed: Set<string>;
}

function processNode(ctx: Ctx, stage: Stage, run: StageRun, node: DockerfileNode, trigger: boolean): void {
  const ins = toInstruction(node, run.scope, expanderFor(run.scope.env, ctx.esc));
  if (trigger) ins.fromOnbuild = true;
  if (ins.kind === 'arg') {
    const [scope, decls] = applyArg(ctx, run.scope, ins.args, run.consumed);
    run.scope = scope;
    ins.args = decls;
  } else if (ins.kind === 'env') {
    run.scope = { env: withVars(run.scope.env, ins.pairs), args: run.scope.args };
  } else if (ins.kind === 'copy' && ins.from !== undefined) {
    const idx = addRef(ctx, stage, ins.from, 'copy', node.startLine);
    if (idx !== undefined) ins.fromStage = idx;
  } else if (ins.kind === 'run' && trigger) {
    for (const m of ins.mounts) if (m.from !== undefined && (m.type === 'bind' || m.type === 'cache')) addRef(ctx, stage, m.from, 'mount', node.startLine);
  }
  stage.instructions.push(ins);
}

function triggerNodes(ctx: Ctx, triggers: readonly string[], from: DockerfileNode): DockerfileNode[] {
  return triggers.map((t) => atLine(ctx.fileName, from.startLine, from.endLine, () => {
    const node = nodeFromLine(t, ctx.esc);
    const name = node.instruction.toUpperCase();
    if (name === 'ONBUILD' || name === 'FROM' || name === 'MAINTAINER') {
      throw new UnpositionedError(`${name} isn't allowed as an ONBUILD trigger`);
    }
    return { ...node, startLine: from.startLine, endLine: from.endLine };
  }));
}

function initialScope(stage: Stage, info: BaseImageInfo | undefined, finals: readonly Scope[]): Scope {
  if (stage.baseStage !== undefined) return finals[stage.baseStage] ?? { env: emptyVars(), args: emptyVars() };
  let env = varsFromList(info?.env ?? []);
  if (!has(env, 'PATH') && stage.platform.os === 'linux') env = withVar(env, 'PATH', DEFAULT_PATH);
  return { env, args: emptyVars() };
}

function expandStage(ctx: Ctx, stage: Stage, s: StageSkeleton, stages: readonly Stage[], finals: Scope[], opts: BuildDefinitionOptions): Set<string> {
  const base = stage.baseStage === undefined ? undefined : stages[stage.baseStage];
  if (base && !stage.explicitPlatform) stage.platform = base.platform;
  const info = base || stage.baseName === 'scratch' ? undefined : opts.baseImage?.(stage.baseName, stage.platform);
  const run: StageRun = { scope: initialScope(stage, info, finals), consumed: new Set() };
  if (!stage.needed) {
    for (const n of s.nodes) atLine(ctx.fileName, n.startLine, n.endLine, () => validateNode(n));
  }
  const triggers = base
    ? base.instructions.flatMap((i) => (i.kind === 'onbuild' ? [i.expression] : []))
    : (info?.onBuild ?? []);
  const work: [DockerfileNode, boolean][] = [
    ...triggerNodes(ctx, triggers, s.from).map((n): [DockerfileNode, boolean] => [n, true]),
    ...s.nodes.map((n): [DockerfileNode, boolean] => [n, false]),
  ];
  for (const [node, trigger] of work) {
    try {
      atLine(ctx.fileName, node.startLine, node.endLine, () => processNode(ctx, stage, run, node, trigger));
    } catch (err) {
      if (stage.needed || !(err instanceof DockerfileError)) throw err;
      ctx.warnings.push({ rule: 'UnneededStageError', message: `stage ${stage.name ?? stage.index} is not needed and would fail: ${err.detail}`, line: err.line });
      break;
    }
  }
  finals[stage.index] = run.scope;
  return run.consumed;
}

function unusedArgWarning(ctx: Ctx, consumed: Set<string>, defaults: Record<string, string>): void {
  const unused = Object.keys(ctx.buildArgs).filter(
    (k) => !consumed.has(k) && !PROXY_ARGS.includes(k) && !has(defaults, k) && !k.startsWith('BUILDKIT_'),
  );
  if (unused.length > 0) {
    ctx.warnings.push({ rule: 'UnusedBuildArg', message: `one or more build-args [${unused.sort().join(' ')}] were not consumed`, line: 0 });
  }
}

/**
 * BuildKit's proxy environment for RUN: a build arg named like a proxy
 * variable in any case (keys in sorted order, the last one winning) sets both
 * the upper- and the lower-case variable.
 */
function proxyEnvOf(buildArgs: Readonly<Record<string, string>>): Record<string, string> {
  const out = emptyVars();
  for (const k of Object.keys(buildArgs).sort()) {
    const lower = k.toLowerCase();
    if (!PROXY_ARGS.includes(lower)) continue;
    out[lower.toUpperCase()] = buildArgs[k] ?? '';
    out[lower] = buildArgs[k] ?? '';
  }
  return out;
}

/**
 * Parses, checks and expands a Dockerfile for one target. Throws a
 * DockerfileError (code DOCKERFILE, with `line`) for syntax errors anywhere,
 * an unknown target, dependency cycles, and expansion errors in the stages
 * the target needs. Warnings are returned, never printed.
 */
export function buildDefinition(opts: BuildDefinitionOptions): BuildDefinition {
  const fileName = opts.fileName ?? 'Dockerfile';
  const parsed = parseDockerfile(opts.text, { fileName });
  try {
    return define(opts, parsed, skeleton(parsed, false));
  } catch (err) {
    // Report a syntax error anywhere in the file before an expansion error, as BuildKit does.
    if (err instanceof DockerfileError) skeleton(parsed, true);
    throw err;
  }
}

function define(opts: BuildDefinitionOptions, parsed: ParseResult, sk: Skeleton): BuildDefinition {
  const fileName = parsed.fileName;
  const buildPlatform = opts.buildPlatform ?? hostPlatform();
  const targetPlatform = opts.platform ?? buildPlatform;
  const ctx: Ctx = { fileName, esc: parsed.escapeToken, buildArgs: opts.buildArgs ?? {}, globals: emptyVars(), warnings: [...parsed.warnings, ...sk.warnings], sk };
  const defaults = platformArgs(buildPlatform, targetPlatform);
  const consumed = new Set<string>();
  const metas = metaArgs(ctx, sk.metaArgs, defaults, consumed);
  const stages = stageHeads(ctx, targetPlatform);
  for (const s of sk.stages) {
    for (const r of s.refs) addRef(ctx, stages[s.index] as Stage, r.ref, r.kind, r.node.startLine);
  }
  const names = stages.map((s) => s.name ?? `stage-${s.index}`);
  atLine(fileName, 0, 0, () => checkCycles(stages.map((s) => s.dependsOn), names));
  let target: number;
  try {
    target = findTarget(opts.target, sk.stages);
  } catch (err) {
    throw positioned(err, fileName, 0);
  }
  for (const i of neededStages(target, stages.map((s) => s.dependsOn))) (stages[i] as Stage).needed = true;
  const finals: Scope[] = [];
  const perStage = sk.stages.map((s) => expandStage(ctx, stages[s.index] as Stage, s, stages, finals, opts));
  const needed = neededStages(target, stages.map((s) => s.dependsOn));
  for (const i of needed) {
    (stages[i] as Stage).needed = true;
    for (const k of perStage[i] ?? []) consumed.add(k);
  }
  unusedArgWarning(ctx, consumed, defaults);
  const proxyEnv = proxyEnvOf(ctx.buildArgs);
  const syntax = parsed.directives.find((d) => d.name === 'syntax')?.value;
  return {
    fileName, escapeToken: parsed.escapeToken, ...(syntax !== undefined ? { syntax } : {}),
    stages, target, needed, metaArgs: metas, proxyEnv, buildPlatform, targetPlatform, warnings: ctx.warnings,
  };
}

/** Options of expandOnbuildTriggers. */
export interface TriggerOptions {
  /** The base image's OnBuild triggers. */
  triggers: readonly string[];
  /** Variables in scope (e.g. the base image Env, as a Scope). */
  scope: Scope;
  escapeToken?: string;
  fileName?: string;
  /** The FROM line the triggers run at (for error positions). */
  line?: number;
}

/**
 * Parses and expands a base image's ONBUILD triggers as a child build runs
 * them right after FROM. Returns the typed instructions (each with
 * `fromOnbuild: true`) and the scope after them.
 */
export function expandOnbuildTriggers(opts: TriggerOptions): { instructions: Instruction[]; scope: Scope } {
  const line = opts.line ?? 0;
  const fileName = opts.fileName ?? 'Dockerfile';
  const from: DockerfileNode = { instruction: 'from', original: '', startLine: line, endLine: line, flags: [], rest: '', args: [], json: false, heredocs: [] };
  const ctx: Ctx = {
    fileName, esc: opts.escapeToken ?? '\\', buildArgs: {}, globals: emptyVars(), warnings: [],
    sk: { metaArgs: [], stages: [], warnings: [] },
  };
  const stage: Stage = {
    index: 0, line, baseName: '', platform: hostPlatform(), explicitPlatform: false,
    instructions: [], dependsOn: [], imageSources: [], needed: true,
  };
  const run: StageRun = { scope: opts.scope, consumed: new Set() };
  for (const node of triggerNodes(ctx, opts.triggers, from)) {
    atLine(fileName, line, line, () => processNode(ctx, stage, run, node, true));
  }
  return { instructions: stage.instructions, scope: run.scope };
}

/**
 * Parses one instruction line such as `CMD ["x"]` or `ENV A=1` (for
 * `commit --change` / `import --change`), expanding words with `env` where
 * Docker expands them. FROM is refused. Throws DockerfileError.
 */
export function parseInstructionLine(line: string, opts: { env?: Readonly<Record<string, string>>; escapeToken?: string } = {}): Instruction {
  const esc = opts.escapeToken ?? '\\';
  const fileName = 'change';
  return atLine(fileName, 1, 1, () => {
    const node = { ...nodeFromLine(line, esc), startLine: 1, endLine: 1 };
    if (node.instruction === 'from') throw new UnpositionedError('FROM is not allowed here');
    const env = Object.assign(emptyVars(), opts.env ?? {});
    return toInstruction(node, { env, args: emptyVars() }, expanderFor(env, esc));
  });
}

/**
 * The typed build definition: stages and instructions with their words
 * expanded where Docker expands them, for the build engine to execute.
 */
import type { DockerfileWarning, Heredoc } from './ast.js';
import type { RunMount } from './mounts.js';

export type { RunMount } from './mounts.js';

/** An OCI platform. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/**
 * The variables visible at one instruction. Objects are shared between
 * instructions until a variable changes, so holding them is cheap; never
 * mutate them.
 */
export interface Scope {
  /**
   * Every variable an expansion (and a RUN) sees: the base image's Env, ENV
   * and ARG values, the later assignment winning. This is the RUN environment.
   */
  env: Readonly<Record<string, string>>;
  /** The build args in scope (ARG-declared names with a value); not persisted in the image config. */
  args: Readonly<Record<string, string>>;
}

interface Base {
  /** 1-based first and last line in the Dockerfile. */
  line: number;
  endLine: number;
  /** The instruction as written (continuations joined), for history and progress output. */
  original: string;
  /** Variables in scope before this instruction runs. */
  scope: Scope;
  /** True when the instruction came from an ONBUILD trigger of the base image or stage. */
  fromOnbuild?: boolean;
}

/** How a shell-or-exec instruction was written. */
export type CommandForm = 'shell' | 'exec';

/** What BuildKit actually executes for a RUN (heredocs resolved). */
export interface RunExec {
  /** Arguments: exec-form argv, or a single script string to give to the shell. */
  args: string[];
  /** True when the stage's SHELL must be prepended (`/bin/sh -c`). */
  prependShell: boolean;
  /** Files to mount read-only for the run (a heredoc with a `#!` line becomes `/dev/pipes/<name>`, mode 0755). */
  files: { path: string; data: string; mode: number }[];
}

export interface RunInstruction extends Base {
  kind: 'run';
  form: CommandForm;
  /** Exec form: argv. Shell form: one element, the command text (never expanded). */
  command: string[];
  heredocs: Heredoc[];
  mounts: RunMount[];
  network?: 'default' | 'none' | 'host';
  security?: 'sandbox' | 'insecure';
  exec: RunExec;
}

export interface CmdInstruction extends Base {
  kind: 'cmd';
  form: CommandForm;
  command: string[];
}

export interface EntrypointInstruction extends Base {
  kind: 'entrypoint';
  form: CommandForm;
  /** Empty for `ENTRYPOINT []` / an empty shell form (resets the entrypoint). */
  command: string[];
}

export interface ShellInstruction extends Base {
  kind: 'shell';
  shell: string[];
}

/** A key/value pair after expansion. */
export interface KeyValue {
  key: string;
  value: string;
}

export interface EnvInstruction extends Base {
  kind: 'env';
  pairs: KeyValue[];
}

export interface LabelInstruction extends Base {
  kind: 'label';
  pairs: KeyValue[];
}

export interface MaintainerInstruction extends Base {
  kind: 'maintainer';
  maintainer: string;
}

export interface ExposeInstruction extends Base {
  kind: 'expose';
  /** Normalised `port/proto` entries, ranges expanded (`8000/tcp`). */
  ports: string[];
}

/** A heredoc source of COPY/ADD: a file made from inline content. */
export interface InlineSource {
  /** The heredoc name, used as the file name. */
  path: string;
  /** Content after tab-stripping (`<<-`) and expansion (unless the delimiter was quoted). */
  data: string;
}

interface CopyBase extends Base {
  /** Source paths/URLs, expanded. */
  sources: string[];
  /** Heredoc sources. */
  inline: InlineSource[];
  dest: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  excludes: string[];
}

export interface CopyInstruction extends CopyBase {
  kind: 'copy';
  /** `--from` as written: a stage name, a stage index or an image reference. */
  from?: string;
  /** The stage index `from` refers to, when it is a stage. */
  fromStage?: number;
  parents: boolean;
}

export interface AddInstruction extends CopyBase {
  kind: 'add';
  keepGitDir: boolean;
  checksum?: string;
}

export interface VolumeInstruction extends Base {
  kind: 'volume';
  volumes: string[];
}

export interface UserInstruction extends Base {
  kind: 'user';
  user: string;
}

export interface WorkdirInstruction extends Base {
  kind: 'workdir';
  path: string;
}

/** One name of an ARG instruction. */
export interface ArgDeclaration {
  key: string;
  /** The default as written (not expanded); undefined when none. */
  default?: string;
  /** The value in force (build arg, default, or global value); undefined when unset. */
  value?: string;
}

export interface ArgInstruction extends Base {
  kind: 'arg';
  args: ArgDeclaration[];
}

export interface OnbuildInstruction extends Base {
  kind: 'onbuild';
  /** The trigger text, stored in the image config (`RUN echo hi`). */
  expression: string;
}

export interface StopsignalInstruction extends Base {
  kind: 'stopsignal';
  signal: string;
}

/** Docker's HealthConfig; durations in nanoseconds, 0 meaning "inherit/default". */
export interface HealthConfig {
  /** `["NONE"]`, `["CMD", ...argv]` or `["CMD-SHELL", script]`. */
  test: string[];
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export interface HealthcheckInstruction extends Base {
  kind: 'healthcheck';
  health: HealthConfig;
}

/** Every typed instruction (discriminated on `kind`). */
export type Instruction =
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | EnvInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | CopyInstruction
  | AddInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction;

/** One build stage (`FROM ... [AS name]` and what follows). */
export interface Stage {
  index: number;
  /** Lower-case stage name, when given with AS. */
  name?: string;
  /** The FROM line's number. */
  line: number;
  /** The expanded FROM image reference or stage name (`scratch` for none). */
  baseName: string;
  /** The stage this one builds on, when baseName names an earlier stage. */
  baseStage?: number;
  /** `--platform` of FROM, expanded and parsed; the target platform otherwise. */
  platform: Platform;
  /** True when FROM had an explicit --platform. */
  explicitPlatform: boolean;
  instructions: Instruction[];
  /** Stages this stage needs first (base stage, COPY --from, RUN --mount from). */
  dependsOn: number[];
  /** Images (not stages) named by COPY --from or RUN --mount from=. */
  imageSources: string[];
  /** Whether the build target needs this stage. */
  needed: boolean;
}

/** The global-scope ARG values (before the first FROM), after build-arg overrides. */
export interface MetaArg {
  key: string;
  value?: string;
  line: number;
}

/** What `buildDefinition` returns. */
export interface BuildDefinition {
  fileName: string;
  escapeToken: string;
  /** The `# syntax=` directive value, when present. */
  syntax?: string;
  stages: Stage[];
  /** The target stage index (the `--target` stage, or the last one). */
  target: number;
  /** Indexes of the stages the target needs, in file order (includes `target`). */
  needed: number[];
  metaArgs: MetaArg[];
  /**
   * The proxy environment every RUN gets on top of its scope (never persisted):
   * for each proxy build arg given (HTTP_PROXY, https_proxy ..., any case),
   * both the upper- and lower-case variable, as BuildKit's llb.ProxyEnv does.
   */
  proxyEnv: Readonly<Record<string, string>>;
  buildPlatform: Platform;
  targetPlatform: Platform;
  warnings: DockerfileWarning[];
}

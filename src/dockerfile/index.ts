/**
 * The Dockerfile frontend: parser (directives, continuations, heredocs),
 * BuildKit-compatible word expansion, typed instructions, stages and their
 * dependency graph, positioned errors. No I/O, never prints.
 */
export { parseDockerfile, chompHeredoc, parseHeredocWord } from './parser.js';
export type { ParseOptions } from './parser.js';
export type { Directive, DockerfileNode, DockerfileWarning, Heredoc, ParseResult, RawPair } from './ast.js';
export { buildDefinition, expandOnbuildTriggers, parseInstructionLine } from './definition.js';
export type { BaseImageInfo, BuildDefinitionOptions, TriggerOptions } from './definition.js';
export { DockerfileError } from './errors.js';
export { lex, processWord, processWords, envLookup } from './shell-lex.js';
export type { EnvLookup, LexOptions, LexResult } from './shell-lex.js';
export { parseMount } from './mounts.js';
export { parseExposePorts } from './ports.js';
export { formatPlatform, hostPlatform, parsePlatform, platformArgs, PROXY_ARGS, DEFAULT_PATH } from './platform.js';
export { parseGoDuration } from './flags.js';
export { INSTRUCTION_NAMES } from './instructions.js';
export type * from './types.js';

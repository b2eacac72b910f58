/**
 * slipway's Go text/template implementation for docker-style `--format`
 * strings, plus Go's text/tabwriter and docker/cli's table rendering.
 */
export { parseTemplate, executeTemplate, renderTemplate } from './template.js';
export type { Template, ParseOptions, ExecuteOptions } from './template.js';
export type { MissingKey } from './exec.js';
export { TemplateError } from './template-error.js';
export type { TemplatePosition } from './template-error.js';
export {
  GoStruct, GoEmptyStruct, GoNilMap, GoNilSlice, GoFloat, GoTime, GoRawJSON, EMPTY_STRUCT,
  goStruct, goEmptyStruct, goNilMap, goNilSlice, goFloat, goTime, isTrue,
} from './values.js';
export { FuncError } from './func-types.js';
export type { FuncMap, GoFunc, ParamType } from './func-types.js';
export { BUILTINS } from './builtins.js';
export { DOCKER_FUNCS, HEADER_FUNCS } from './docker-funcs.js';
export { goJSON } from './json.js';
export type { GoJSONOptions } from './json.js';
export { formatValue, sprint, sprintln } from './fmt.js';
export { sprintf } from './sprintf.js';
export {
  formatTabbed, terminalWidth, DOCKER_TABLE_OPTIONS,
  TAB_ALIGN_RIGHT, TAB_DEBUG, TAB_DISCARD_EMPTY_COLUMNS, TAB_INDENT,
} from './tabwriter.js';
export type { TabwriterOptions } from './tabwriter.js';
export { parseDockerFormat, renderTable, unescapeFormat } from './docker-format.js';
export type { DockerFormat, RenderTableOptions } from './docker-format.js';

/**
 * docker/cli's handling of `--format` (cli/command/formatter/formatter.go):
 * `table ...` renders a header row plus one row per item through the
 * tabwriter, `json` prints one JSON object per line, anything else is a
 * plain template printed once per item. In every case the format is
 * trimmed of spaces and the two-character sequences `\t` and `\n` become a
 * real tab and newline.
 */
import { HEADER_FUNCS } from './docker-funcs.js';
import { goJSON } from './json.js';
import { DOCKER_TABLE_OPTIONS, formatTabbed } from './tabwriter.js';
import { TemplateError } from './template-error.js';
import { executeTemplate, parseTemplate } from './template.js';
import { GoStruct } from './values.js';

/** A classified --format value. */
export type DockerFormat =
  | { kind: 'table'; template: string }
  | { kind: 'json' }
  | { kind: 'raw'; template: string };

/** Docker's escape handling of a user-typed format: trim spaces, `\t` -> tab, `\n` -> newline. */
export function unescapeFormat(s: string): string {
  return s.replace(/^ +| +$/g, '').replace(/\\[tn]/g, (m) => (m === '\\t' ? '\t' : '\n'));
}

/**
 * Classify a docker --format string. `table...` (any string starting with
 * "table", as docker's IsTable) yields the template after the prefix; an
 * exact `json` yields kind json; anything else is a plain template.
 */
export function parseDockerFormat(format: string): DockerFormat {
  if (format.startsWith('table')) return { kind: 'table', template: unescapeFormat(format.slice(5)) };
  if (format === 'json') return { kind: 'json' };
  return { kind: 'raw', template: unescapeFormat(format) };
}

/** Input of renderTable. */
export interface RenderTableOptions {
  /** The user's --format; '' or exactly 'table' selects `defaultFormat`. */
  format: string;
  /** One value per output line (typically goStruct(...) of the row's fields). */
  rows: readonly unknown[];
  /** Column titles by field name, e.g. { Repository: 'REPOSITORY' }: the header context. */
  headers: Record<string, string>;
  /** The command's default table format, e.g. 'table {{.Repository}}\t{{.Tag}}'. */
  defaultFormat?: string;
}

function jsonObject(row: unknown): unknown {
  if (!(row instanceof GoStruct)) return row;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row.fields)) {
    out[k] = typeof v === 'function' ? (v as () => unknown)() : v;
  }
  return out;
}

/**
 * Render rows as docker/cli's formatter does for `--format`: a table
 * (header executed over `headers` with HeaderFunctions, header errors
 * ignored, aligned by tabwriter(10, 1, 3, ' ', 0)), one JSON object per row
 * (keys sorted, HTML-escaped, as docker's MarshalJSON), or the plain
 * template once per row. Every row ends with a newline. Row errors throw
 * TemplateError.
 */
export function renderTable(opts: RenderTableOptions): string {
  let format = opts.format;
  if ((format === '' || format === 'table') && opts.defaultFormat !== undefined) format = opts.defaultFormat;
  const parsed = parseDockerFormat(format);
  if (parsed.kind === 'json') {
    return opts.rows.map((r) => goJSON(jsonObject(r), { escapeHTML: true, sortKeys: true }) + '\n').join('');
  }
  const tmpl = parseTemplate(parsed.template);
  const body = opts.rows.map((r) => executeTemplate(tmpl, r) + '\n').join('');
  if (parsed.kind === 'raw') return body;
  let header: string;
  try {
    header = executeTemplate(tmpl, opts.headers, { funcs: HEADER_FUNCS });
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    header = err.partialOutput;
  }
  return formatTabbed(header + '\n' + body, DOCKER_TABLE_OPTIONS);
}

/**
 * The error thrown for templates that fail to parse or execute, plus Go's
 * position arithmetic (line and byte column of a position in the text).
 */
import { SlipwayError } from '../errors.js';

/** Where a template error happened: 1-based line, 0-based byte column (Go's convention). */
export interface TemplatePosition {
  line: number;
  column: number;
}

/**
 * A SlipwayError('TEMPLATE') whose message is what docker prints:
 * `template parsing error: <Go's error text>`. `goMessage` holds Go's text
 * alone; `line`/`column` locate the failure (for parse errors Go prints only
 * the line, but the column is still provided here).
 */
export class TemplateError extends SlipwayError {
  readonly goMessage: string;
  readonly line: number;
  readonly column: number;
  /** Output produced before an execution error (docker still prints a failed header's part). */
  partialOutput = '';

  constructor(goMessage: string, where: TemplatePosition) {
    // Go names only the line of a parse error; slipway adds the column in
    // Go's own `:line:col:` form, so the user sees where the template broke.
    const shown = goMessage.replace(/^(template: [^:]*:)(\d+): /, (_m, head: string, line: string) => `${head}${line}:${where.column}: `);
    super('TEMPLATE', `template parsing error: ${shown}`);
    this.name = 'TemplateError';
    this.goMessage = goMessage;
    this.line = where.line;
    this.column = where.column;
  }
}

/** Line (1-based) and byte column (0-based, as Go's ErrorContext) of string index `pos`. */
export function positionOf(text: string, pos: number): TemplatePosition {
  const before = text.slice(0, pos);
  const nl = before.lastIndexOf('\n');
  let line = 1;
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++;
  const column = Buffer.byteLength(before.slice(nl + 1), 'utf8');
  return { line, column };
}

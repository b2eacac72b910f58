/**
 * Rows to text as docker/cli's formatter prints them (`table ...`, `json`,
 * or a plain template), each row a Go struct of the command's context type so
 * that template errors name it as Docker does.
 */
import { GoRawJSON, goJSON, goStruct, renderTable } from '../template/index.js';

/** What renderFormatted prints. */
export interface FormattedOptions {
  /** The format as the user typed it (or the command's default). */
  format: string;
  /** Field name -> table header ('Repository' -> 'REPOSITORY'). */
  headers: Record<string, string>;
  /** The row type's Go name, for template errors ('*formatter.imageContext'). */
  typeName: string;
  /** One object of field values per row. */
  rows: Record<string, unknown>[];
}

/** Renders rows the way docker/cli's formatter.Context does. */
export function renderFormatted(options: FormattedOptions): string {
  const rows = options.rows.map((r) => goStruct(r, options.typeName, new GoRawJSON(() => goJSON(r, { escapeHTML: true, sortKeys: true }))));
  return renderTable({ format: options.format, headers: options.headers, rows });
}

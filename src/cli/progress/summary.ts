/** What the progress display prints after the last frame: failed steps and warnings. */
import { isCanceled, type Trace } from './trace.js';

/**
 * The box under a failed build, one per failed step, as BuildKit prints it:
 * `------`, ` > name:`, the step's output lines (tty mode keeps them; plain
 * mode printed them already), `------`.
 */
export function errorSummary(trace: Trace): string {
  let out = '';
  for (const v of trace.vertices) {
    if (v.error === undefined || isCanceled(v)) continue;
    out += `------\n > ${v.name}:\n`;
    for (const l of v.logs) out += `${l}\n`;
    out += '------\n';
  }
  return out;
}

/**
 * The warnings list, as docker build prints it after the progress:
 * a blank line, ` 1 warning found (use docker --debug to expand):`, then
 * ` - text` per warning. `color` makes the count line yellow (tty).
 */
export function warningSummary(warnings: readonly string[], color: boolean): string {
  if (warnings.length === 0) return '';
  const n = warnings.length === 1 ? '1 warning found' : `${warnings.length} warnings found`;
  const head = `${n} (use docker --debug to expand):\n`;
  let out = `\n ${color ? `\x1b[33m${head}\x1b[0m` : head}`;
  for (const w of warnings) out += ` - ${w}\n`;
  return out;
}

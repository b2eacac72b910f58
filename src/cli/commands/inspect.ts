/** `inspect` / `image inspect`: Docker's JSON document, or a Go template per image. */
import { SlipwayError } from '../../errors.js';
import { findImage, noSuchImage } from '../../store/resolve.js';
import { executeTemplate, goJSON, parseTemplate, unescapeFormat, type Template } from '../../template/index.js';
import { inspectJson, inspectTyped } from '../inspect-model.js';
import { write, type CliContext } from '../context.js';
import type { Opts } from '../program.js';

/** Go's json.MarshalIndent with 4 spaces, HTML characters escaped as the engine's encoder does. */
export function indentJson(value: unknown): string {
  return JSON.stringify(value, null, 4).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/**
 * docker/cli's TemplateInspector: the template runs on the typed value; if
 * that fails, on the raw JSON with missingkey=error, whose error is reported.
 */
function runTemplate(tmpl: Template, typed: unknown, raw: unknown): string {
  try {
    return executeTemplate(tmpl, typed);
  } catch {
    return executeTemplate(tmpl, raw, { missingKey: 'error' });
  }
}

/** `slipway inspect [-f FORMAT] IMAGE...` */
export async function inspectCommand(ctx: CliContext, words: string[], opts: Opts): Promise<number> {
  const type = opts.type as string | undefined;
  if (type !== undefined && type !== 'image') {
    throw new SlipwayError('INVALID_ARGUMENT', `"${type}" is not a valid value for --type`);
  }
  const format = opts.format as string | undefined;
  let tmpl: Template | undefined;
  if (format && format.trim() !== 'json') {
    try {
      tmpl = parseTemplate(unescapeFormat(format));
    } catch (err) {
      throw new SlipwayError('TEMPLATE', (err as Error).message, { cause: err, exitCode: 64 });
    }
  }
  const store = ctx.store();
  const records = await store.list();
  const docs: unknown[] = [];
  const errors: string[] = [];
  let out = '';
  for (const word of words) {
    const found = findImage(records, word);
    if (!found) {
      // docker/cli 28 wraps the daemon's answer: "no such image: nosuch: No such image: nosuch:latest".
      errors.push(type === 'image' || ctx.commandPath === 'slipway image inspect' ? `no such image: ${word}: ${noSuchImage(word).message}` : `No such object: ${word}`);
      continue;
    }
    const cfg = await store.config(found.record);
    const json = inspectJson(found.record, cfg);
    if (!tmpl) {
      docs.push(json);
      continue;
    }
    try {
      out += `${runTemplate(tmpl, inspectTyped(found.record, cfg, json), json)}\n`;
    } catch (err) {
      await ctx.out(`${out}\n`);
      throw err;
    }
  }
  if (tmpl) await ctx.out(out);
  else if (format?.trim() === 'json') await ctx.out(`${goJSON(docs, { escapeHTML: true })}\n`);
  else await ctx.out(`${docs.length === 0 ? '[]' : indentJson(docs)}\n`);
  for (const e of errors) await write(ctx.stderr, `Error: ${e}\n`);
  return errors.length > 0 ? 1 : 0;
}

/**
 * What a RUN executes once its heredocs are resolved, as BuildKit's
 * dockerfile2llb dispatchRun decides it.
 */
import type { Heredoc } from './ast.js';
import { chompHeredoc, parseHeredocWord } from './parser.js';
import type { RunExec } from './types.js';

/**
 * - No heredocs: the command as written.
 * - `RUN <<EOF` alone with a body starting `#!`: the body becomes the file
 *   /dev/pipes/EOF (mode 0755) and the shell runs that path.
 * - `RUN <<EOF` alone otherwise: the body is the shell script.
 * - Anything else (`RUN cat <<A <<B`): the line and bodies are joined back
 *   into one script (`line\nbodyA` + `A` ...) for the shell to interpret.
 * Heredoc bodies of RUN are never expanded by the builder (the shell does it).
 */
export function runExec(command: string[], prependShell: boolean, heredocs: readonly Heredoc[]): RunExec {
  const first = heredocs[0];
  if (!first) return { args: command, prependShell, files: [] };
  const line = command[0] ?? '';
  const single = parseHeredocWord(line);
  if (command.length === 1 && single) {
    const data = first.chomp ? chompHeredoc(first.content) : first.content;
    if (data.startsWith('#!')) {
      const path = `/dev/pipes/${first.name}`;
      return { args: [path], prependShell, files: [{ path, data, mode: 0o755 }] };
    }
    return { args: [data], prependShell, files: [] };
  }
  let full = line;
  for (const h of heredocs) full += '\n' + h.content + h.name;
  return { args: [full], prependShell, files: [] };
}

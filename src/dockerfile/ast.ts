/**
 * Types of the raw Dockerfile syntax tree (what `parseDockerfile` returns).
 */

/** A heredoc attached to a RUN, COPY or ADD line (`<<EOF`, `<<-EOF`, `<<"EOF"`). */
export interface Heredoc {
  /** The delimiter word with quotes removed (`EOF`). */
  name: string;
  /** The file descriptor written before `<<` (`3<<EOF`), 0 when none. */
  fileDescriptor: number;
  /** False when any part of the delimiter was quoted: the body is not expanded. */
  expand: boolean;
  /** True for `<<-`: leading tabs are stripped from the body lines. */
  chomp: boolean;
  /** The body exactly as written, every line with its newline; tabs not yet stripped. */
  content: string;
}

/** A parser directive from the top of the file. */
export interface Directive {
  name: 'syntax' | 'escape' | 'check';
  value: string;
  line: number;
}

/** One key/value pair of ENV or LABEL as written (quotes kept, not expanded). */
export interface RawPair {
  key: string;
  value: string;
  /** True for the legacy `ENV key value` form (no `=`). */
  legacy: boolean;
}

/** One instruction of the syntax tree. */
export interface DockerfileNode {
  /** Lower-case instruction name (`run`); unknown names are kept too. */
  instruction: string;
  /** The logical line: continuation lines joined, comments inside removed. */
  original: string;
  /** 1-based first and last physical line (heredoc bodies included). */
  startLine: number;
  endLine: number;
  /** The `--flag[=value]` words before the arguments, quotes removed. */
  flags: string[];
  /** The argument text after the flags, trimmed. */
  rest: string;
  /**
   * Arguments as BuildKit's parser splits them: the JSON array elements,
   * whitespace-separated words, ENV/LABEL as key,value,key,value..., the
   * single shell-form command text, or for HEALTHCHECK the type followed by
   * the command; for ONBUILD the trigger's instruction name and arguments.
   */
  args: string[];
  /** ENV and LABEL pairs. */
  pairs?: RawPair[];
  /** True when the arguments were a valid JSON array of strings (exec form). */
  json: boolean;
  /** Heredoc bodies, in the order their delimiters appear. */
  heredocs: Heredoc[];
  /** The trigger of an ONBUILD instruction. */
  sub?: DockerfileNode;
}

/** A problem that does not stop the build; returned, never printed. */
export interface DockerfileWarning {
  /** BuildKit's rule name when one applies (e.g. `NoEmptyContinuation`). */
  rule: string;
  message: string;
  /** 1-based line, 0 when the warning is not about a line. */
  line: number;
}

/** What `parseDockerfile` returns. */
export interface ParseResult {
  fileName: string;
  directives: Directive[];
  /** The escape character in force: '\\' or '`'. */
  escapeToken: string;
  nodes: DockerfileNode[];
  warnings: DockerfileWarning[];
}

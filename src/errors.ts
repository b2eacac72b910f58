/**
 * The one error type of slipway. Every failure a user can see is a
 * SlipwayError with a stable `code`; the CLI maps codes to exit statuses in
 * one place (src/cli/exit-codes.ts). Library code throws, it never exits.
 */

/** Stable error codes. Add new ones here; never rename an existing one. */
export type ErrorCode =
  | 'USAGE'              // bad flags or arguments
  | 'NOT_FOUND'          // image, container, blob or file that does not exist
  | 'CONFLICT'           // refused because of state (image in use, tag ambiguity)
  | 'INVALID_ARGUMENT'   // a value that does not parse (reference, filter, duration)
  | 'INVALID_ARCHIVE'    // a tar or archive that is corrupt, truncated or unsafe
  | 'DIGEST_MISMATCH'    // content whose digest or size differs from what was promised
  | 'TEMPLATE'           // a --format template that does not parse or execute
  | 'DOCKERFILE'         // a Dockerfile parse or validation error
  | 'BUILD'              // a build step failed
  | 'RUNTIME'            // the OCI runtime failed or is missing
  | 'REGISTRY'           // a registry answered with an error
  | 'UNAUTHORIZED'       // credentials missing or refused
  | 'IO'                 // an operating-system error reading or writing
  | 'UNSUPPORTED'        // a feature that is not implemented (yet)
  | 'INTERNAL';          // a bug

/** Options of a SlipwayError. */
export interface SlipwayErrorOptions {
  /** The underlying error, kept for --debug output. */
  cause?: unknown;
  /** Exit status override (e.g. a container's own exit code). */
  exitCode?: number;
}

/** An error with a stable machine-readable `code` and a human message. */
export class SlipwayError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: SlipwayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SlipwayError';
    this.code = code;
    this.exitCode = options.exitCode;
  }
}

/** True when `err` is a SlipwayError (optionally with the given code). */
export function isSlipwayError(err: unknown, code?: ErrorCode): err is SlipwayError {
  return err instanceof SlipwayError && (code === undefined || err.code === code);
}

/** True when `err` is a Node system error with the given errno code (ENOENT, EEXIST ...). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** The one place where error codes become process exit statuses. */
import type { ErrorCode } from '../errors.js';

const EXIT: Record<ErrorCode, number> = {
  USAGE: 125,
  NOT_FOUND: 1,
  CONFLICT: 1,
  INVALID_ARGUMENT: 1,
  INVALID_ARCHIVE: 1,
  DIGEST_MISMATCH: 1,
  TEMPLATE: 1,
  DOCKERFILE: 1,
  BUILD: 1,
  RUNTIME: 125,
  REGISTRY: 1,
  UNAUTHORIZED: 1,
  IO: 1,
  UNSUPPORTED: 1,
  INTERNAL: 1,
};

/** The exit status for an error code (Docker's: 125 for usage errors, 1 otherwise). */
export function exitCodeFor(code: ErrorCode): number {
  return EXIT[code];
}

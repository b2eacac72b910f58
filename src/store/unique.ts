/**
 * Names for temporary files (ingest files, atomically replaced documents,
 * lock files) that no other live process can pick: the pid, a per-process
 * counter and the monotonic clock. Files made with these names are still
 * created exclusively ('wx'), so even a pid reused after a crash fails
 * loudly instead of sharing a file. Cheaper than random bytes, which would
 * load node:crypto on a command's start.
 */

let counter = 0;

/** A suffix unique among the live processes of this host: `<pid>-<counter>-<clock>`. */
export function uniqueSuffix(): string {
  counter += 1;
  return `${process.pid}-${counter.toString(36)}-${process.hrtime.bigint().toString(36)}`;
}

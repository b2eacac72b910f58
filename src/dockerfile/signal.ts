/**
 * STOPSIGNAL validation as moby/sys/signal ParseSignal does it on Linux:
 * a non-zero number, or a signal name with or without SIG, any case.
 */
import { UnpositionedError } from './errors.js';

const NAMES = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL',
  'PROF', 'PWR', 'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1',
  'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ', 'RTMIN', 'RTMAX',
  ...Array.from({ length: 15 }, (_, i) => `RTMIN+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `RTMAX-${i + 1}`),
]);

/**
 * Throws UnpositionedError `Invalid signal: X` unless `raw` is a signal
 * BuildKit accepts for STOPSIGNAL (a non-zero integer, or a Linux signal name
 * such as SIGTERM, term, RTMIN+3).
 */
export function checkSignal(raw: string): void {
  if (/^[+-]?\d+$/.test(raw)) {
    const n = Number(raw);
    if (n !== 0 && Number.isSafeInteger(n) && Math.abs(n) <= 2 ** 31 - 1) return;
  } else {
    const upper = raw.toUpperCase();
    if (NAMES.has(upper.startsWith('SIG') ? upper.slice(3) : upper)) return;
  }
  throw new UnpositionedError(`Invalid signal: ${raw}`);
}

/** Where the store lives: --root, else SLIPWAY_ROOT, else a per-user default. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Options of storeRoot. */
export interface RootOptions {
  /** The --root flag, if given. */
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  uid?: number;
}

/**
 * The store root: the flag, else $SLIPWAY_ROOT, else /var/lib/slipway for
 * root and $XDG_DATA_HOME/slipway (else ~/.local/share/slipway) for others.
 */
export function storeRoot(options: RootOptions = {}): string {
  const env = options.env ?? process.env;
  if (options.flag) return resolve(options.flag);
  if (env.SLIPWAY_ROOT) return resolve(env.SLIPWAY_ROOT);
  const uid = options.uid ?? process.getuid?.() ?? 0;
  if (uid === 0) return '/var/lib/slipway';
  const data = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(data, 'slipway');
}

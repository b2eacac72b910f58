/** Docker-style usage errors (docker/cli 28 wording), built from commander's parse errors. */
import { SlipwayError } from '../errors.js';

interface CommanderLikeError {
  code: string;
  message: string;
}

/** What a usage error needs to know about the command. */
export interface CommandInfo {
  /** 'slipway images' */
  path: string;
  /** '[OPTIONS] [REPOSITORY[:TAG]]' */
  usage: string;
}

function flagError(text: string, cmd: CommandInfo): SlipwayError {
  return new SlipwayError('USAGE', `${text}\n\nUsage:  ${cmd.path} ${cmd.usage}\n\nRun '${cmd.path} --help' for more information`);
}

/** Turns a commander parse error of `cmd` into Docker's wording (exit 125 for flags, 1 for arguments). */
export function usageError(err: CommanderLikeError, cmd: CommandInfo): SlipwayError {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'commander.unknownOption':
      return flagError(quoted.startsWith('--') ? `unknown flag: ${quoted}` : `unknown shorthand flag: '${quoted.slice(1, 2)}' in ${quoted}`, cmd);
    case 'commander.optionMissingArgument': {
      const flag = /'(-[^ ,']+)/.exec(err.message)?.[1] ?? quoted;
      return flagError(`flag needs an argument: ${flag.startsWith('--') ? flag : `'${flag.slice(1)}' in ${flag}`}`, cmd);
    }
    case 'commander.unknownCommand':
      return new SlipwayError('USAGE', `slipway: unknown command: ${cmd.path} ${quoted}\n\nRun '${cmd.path} --help' for more information`, { exitCode: 1 });
    case 'commander.excessArguments': {
      const max = Number(/Expected (\d+)/.exec(err.message)?.[1] ?? 0);
      return argsError(cmd, { max });
    }
    default:
      return flagError(err.message.replace(/^error: /, ''), cmd);
  }
}

/** docker/cli's argument-count errors: RequiresMinArgs, ExactArgs, RequiresMaxArgs. */
export function argsError(cmd: CommandInfo, count: { min?: number; exact?: number; max?: number }): SlipwayError {
  const plural = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;
  let what: string;
  let verb = 'Run';
  if (count.exact !== undefined) what = `requires ${plural(count.exact)}`;
  else if (count.min !== undefined) {
    what = `requires at least ${plural(count.min)}`;
    verb = 'See';
  } else what = `requires at most ${plural(count.max ?? 0)}`;
  return new SlipwayError('USAGE', `slipway: '${cmd.path}' ${what}\n\nUsage:  ${cmd.path} ${cmd.usage}\n\n${verb} '${cmd.path} --help' for more information`, { exitCode: 1 });
}

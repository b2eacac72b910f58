/** Docker-style usage errors from commander's parse errors. */
import { SlipwayError } from '../errors.js';

interface CommanderLikeError {
  code: string;
  message: string;
}

/** Turns a commander error into Docker's wording, naming the command's help. */
export function usageError(err: CommanderLikeError, commandPath: string): SlipwayError {
  const help = `See '${commandPath} --help'.`;
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'commander.unknownOption': {
      const text = quoted.startsWith('--') ? `unknown flag: ${quoted}` : `unknown shorthand flag: '${quoted.slice(1, 2)}' in ${quoted}`;
      return new SlipwayError('USAGE', `${text}\n${help}`);
    }
    case 'commander.optionMissingArgument': {
      const flag = /'(-[^ ,']+)/.exec(err.message)?.[1] ?? quoted;
      return new SlipwayError('USAGE', `flag needs an argument: ${flag.startsWith('--') ? flag : `'${flag.slice(1)}' in ${flag}`}\n${help}`);
    }
    case 'commander.unknownCommand':
      return new SlipwayError('USAGE', `slipway: '${quoted}' is not a slipway command.\nSee 'slipway --help'`);
    default:
      return new SlipwayError('USAGE', `${err.message.replace(/^error: /, '')}\n${help}`);
  }
}

/** A "requires N argument(s)" error as docker/cli prints it. */
export function argsError(opts: { commandPath: string; usage: string; description: string; min: number; exact?: boolean }): SlipwayError {
  const n = opts.min;
  const what = opts.exact ? `exactly ${n} argument${n === 1 ? '' : 's'}` : `at least ${n} argument${n === 1 ? '' : 's'}`;
  return new SlipwayError('USAGE', `"${opts.commandPath}" requires ${what}.\nSee '${opts.commandPath} --help'.\n\nUsage:  ${opts.commandPath} ${opts.usage}\n\n${opts.description}`, { exitCode: 1 });
}

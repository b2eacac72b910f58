/**
 * The command tree. Each command is declared once (flags, usage, handler
 * module) and registered both at the top level and under its group, as
 * docker/cli does (`images` and `image ls`). Handlers are imported lazily so
 * start-up only pays for the command that runs.
 */
import { Command, Option } from 'commander';
import type { CliContext } from './context.js';
import { argsError, usageError } from './usage.js';

/** Options parsed by commander, as handlers receive them. */
export type Opts = Record<string, unknown>;

/** A command handler: returns the exit status (0 when undefined). */
export type Handler = (ctx: CliContext, args: string[], opts: Opts) => Promise<number | void>;

interface Spec {
  /** Top-level name (undefined when the command exists only in its group). */
  top?: string;
  /** Group and name within it, e.g. ['image', 'ls', 'list']. */
  group?: [string, string, ...string[]];
  usage: string;
  description: string;
  args: string;
  minArgs?: number;
  maxArgs?: number;
  exactArgs?: number;
  options: (cmd: Command) => void;
  handler: () => Promise<Handler>;
  /** Left out of the help (internal commands). */
  hidden?: boolean;
}

/** The options `run` and `create` share (Docker's container create flags). */
function containerOptions(c: Command): Command {
  return c.passThroughOptions().helpOption('--help', 'Print usage').option('--rm', 'Automatically remove the container when it exits')
      .option('-i, --interactive', 'Keep STDIN open even if not attached').option('-t, --tty', 'Allocate a pseudo-TTY').option('--name <string>', 'Assign a name to the container')
      .option('-e, --env <list>', 'Set environment variables', collect, []).option('--env-file <list>', 'Read in a file of environment variables', collect, [])
      .option('-v, --volume <list>', 'Bind mount a volume', collect, []).option('-w, --workdir <string>', 'Working directory inside the container')
      .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])').option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image')
      .option('-p, --publish <list>', 'Publish a container\'s port(s) to the host', collect, []).option('--network <string>', 'Connect a container to a network (host, none, private)')
      .option('-h, --hostname <string>', 'Container host name').option('-m, --memory <bytes>', 'Memory limit').option('--cpus <decimal>', 'Number of CPUs')
      .option('--runtime <string>', 'Runtime to use for this container (runc, crun)');
}

/** The version, from package.json at bundle time. */
const VERSION = '0.1.0';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const formatOpt = (c: Command) => c.option('--format <string>', 'Format output using a custom template');

const SPECS: Spec[] = [
  {
    top: 'build', group: ['image', 'build'], usage: '[OPTIONS] PATH | URL | -', description: 'Build an image from a Dockerfile', args: '[context...]', exactArgs: 1,
    options: (c) => c.option('-t, --tag <name>', 'Name and optionally a tag in the "name:tag" format', collect, [])
      .option('-f, --file <string>', "Name of the Dockerfile (Default is 'PATH/Dockerfile')")
      .option('--build-arg <arg>', 'Set build-time variables', collect, []).option('--target <string>', 'Set the target build stage to build.')
      .option('--no-cache', 'Do not use cache when building the image').option('--no-cache-filter <stage>', 'Do not cache specified stages', collect, [])
      .option('--pull', 'Always attempt to pull a newer version of the image').option('--label <label>', 'Set metadata for an image', collect, [])
      .option('-q, --quiet', 'Suppress the build output and print image ID on success').option('--iidfile <string>', 'Write the image ID to the file')
      .option('--progress <string>', 'Set type of progress output (auto, plain, tty, quiet)').option('--platform <string>', 'Set platform if server is multi-platform capable')
      .option('--network <string>', 'Set the networking mode for the RUN instructions during build').option('--secret <secret>', 'Secret to expose to the build', collect, []),
    handler: async () => (await import('./commands/build.js')).buildCommand,
  },
  {
    top: 'images', group: ['image', 'ls', 'list'], usage: '[OPTIONS] [REPOSITORY[:TAG]]', description: 'List images', args: '[repository]',
    options: (c) => formatOpt(c.option('-a, --all', 'Show all images (default hides intermediate images)')
      .option('--digests', 'Show digests').option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
      .option('--no-trunc', "Don't truncate output").option('-q, --quiet', 'Only show image IDs')),
    handler: async () => (await import('./commands/images.js')).imagesCommand,
  },
  {
    group: ['image', 'inspect'], usage: '[OPTIONS] IMAGE [IMAGE...]', description: 'Display detailed information on one or more images', args: '[images...]', minArgs: 1,
    options: (c) => c.option('-f, --format <string>', 'Format output using a custom template').option('--type <string>', 'Return JSON for specified type'),
    handler: async () => (await import('./commands/inspect.js')).inspectCommand,
  },
  {
    top: 'inspect', group: ['container', 'inspect'], usage: '[OPTIONS] NAME|ID [NAME|ID...]', description: 'Return low-level information on Docker objects', args: '[names...]', minArgs: 1,
    options: (c) => c.option('-f, --format <string>', 'Format output using a custom template').option('--type <string>', 'Return JSON for specified type')
      .option('-s, --size', 'Display total file sizes if the type is container'),
    handler: async () => (await import('./commands/container-inspect.js')).inspectAnyCommand,
  },
  {
    top: 'history', group: ['image', 'history'], usage: '[OPTIONS] IMAGE', description: 'Show the history of an image', args: '[image...]', exactArgs: 1,
    options: (c) => formatOpt(c.addOption(new Option('-H, --human [bool]', 'Print sizes and dates in human readable format').default(true))
      .option('--no-trunc', "Don't truncate output").option('-q, --quiet', 'Only show image IDs')),
    handler: async () => (await import('./commands/history.js')).historyCommand,
  },
  {
    top: 'tag', group: ['image', 'tag'], usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]', description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', args: '[names...]', exactArgs: 2,
    options: (c) => c,
    handler: async () => (await import('./commands/tag-rmi.js')).tagCommand,
  },
  {
    top: 'rmi', group: ['image', 'rm', 'remove'], usage: '[OPTIONS] IMAGE [IMAGE...]', description: 'Remove one or more images', args: '[images...]', minArgs: 1,
    options: (c) => c.option('-f, --force', 'Force removal of the image').option('--no-prune', 'Do not delete untagged parents'),
    handler: async () => (await import('./commands/tag-rmi.js')).rmiCommand,
  },
  {
    group: ['image', 'prune'], usage: '[OPTIONS]', description: 'Remove unused images', args: '',
    options: (c) => c.option('-a, --all', 'Remove all unused images, not just dangling ones')
      .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, []).option('-f, --force', 'Do not prompt for confirmation'),
    handler: async () => (await import('./commands/prune.js')).imagePruneCommand,
  },
  {
    group: ['builder', 'prune'], usage: '[OPTIONS]', description: 'Remove build cache', args: '',
    options: (c) => c.option('-a, --all', 'Remove all unused build cache, not just dangling ones')
      .option('--filter <filter>', 'Provide filter values (e.g. "until=24h")', collect, []).option('-f, --force', 'Do not prompt for confirmation'),
    handler: async () => (await import('./commands/builder.js')).builderPruneCommand,
  },
  {
    group: ['system', 'df'], usage: '[OPTIONS]', description: 'Show docker disk usage', args: '',
    options: (c) => formatOpt(c.option('-v, --verbose', 'Show detailed information on space usage')),
    handler: async () => (await import('./commands/system-df.js')).systemDfCommand,
  },
  {
    top: 'save', group: ['image', 'save'], usage: '[OPTIONS] IMAGE [IMAGE...]', description: 'Save one or more images to a tar archive (streamed to STDOUT by default)', args: '[images...]', minArgs: 1,
    options: (c) => c.option('-o, --output <string>', 'Write to a file, instead of STDOUT'),
    handler: async () => (await import('./commands/save-load.js')).saveCommand,
  },
  {
    top: 'load', group: ['image', 'load'], usage: '[OPTIONS]', description: 'Load an image from a tar archive or STDIN', args: '',
    options: (c) => c.option('-i, --input <string>', 'Read from tar archive file, instead of STDIN').option('-q, --quiet', 'Suppress the load output'),
    handler: async () => (await import('./commands/save-load.js')).loadCommand,
  },
  {
    top: 'import', group: ['image', 'import'], usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]', description: 'Import the contents from a tarball to create a filesystem image', args: '[args...]', minArgs: 1, maxArgs: 2,
    options: (c) => c.option('-c, --change <value>', 'Apply Dockerfile instruction to the created image', collect, [])
      .option('-m, --message <string>', 'Set commit message for imported image').option('--platform <string>', 'Set platform if server is multi-platform capable'),
    handler: async () => (await import('./commands/import.js')).importCommand,
  },
  {
    top: 'pull', group: ['image', 'pull'], usage: '[OPTIONS] NAME[:TAG|@DIGEST]', description: 'Pull an image or a repository from a registry', args: '[name...]', exactArgs: 1,
    options: (c) => c.option('-a, --all-tags', 'Download all tagged images in the repository').option('--platform <string>', 'Set platform if server is multi-platform capable')
      .option('-q, --quiet', 'Suppress verbose output'),
    handler: async () => (await import('./commands/registry.js')).pullCommand,
  },
  {
    top: 'push', group: ['image', 'push'], usage: '[OPTIONS] NAME[:TAG]', description: 'Push an image or a repository to a registry', args: '[name...]', exactArgs: 1,
    options: (c) => c.option('-a, --all-tags', 'Push all tagged images in the repository').option('-q, --quiet', 'Suppress verbose output')
      .option('--compression <string>', 'Layer compression: gzip (default), zstd (OCI manifest) or uncompressed').option('--oci', 'Push an OCI manifest instead of Docker schema 2')
      .option('--chunk-size <bytes>', 'Upload layers in chunks of this many bytes'),
    handler: async () => (await import('./commands/registry.js')).pushCommand,
  },
  {
    top: 'login', usage: '[OPTIONS] [SERVER]', description: 'Log in to a registry', args: '[server...]', maxArgs: 1,
    options: (c) => c.option('-u, --username <string>', 'Username').option('-p, --password <string>', 'Password')
      .option('--password-stdin', 'Take the password from stdin'),
    handler: async () => (await import('./commands/registry.js')).loginCommand,
  },
  {
    top: 'logout', usage: '[SERVER]', description: 'Log out from a registry', args: '[server...]', maxArgs: 1,
    options: (c) => c,
    handler: async () => (await import('./commands/registry.js')).logoutCommand,
  },
  {
    top: 'search', usage: '[OPTIONS] TERM', description: 'Search Docker Hub for images', args: '[term...]', exactArgs: 1,
    options: (c) => formatOpt(c.option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
      .option('--limit <int>', 'Max number of search results', '25').option('--no-trunc', "Don't truncate output")),
    handler: async () => (await import('./commands/registry.js')).searchCommand,
  },
  {
    top: 'info', group: ['system', 'info'], usage: '[OPTIONS]', description: 'Display system-wide information', args: '',
    options: (c) => c,
    handler: async () => (await import('./commands/info.js')).infoCommand,
  },
  {
    top: 'run', group: ['container', 'run'], usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]', description: 'Run a command in a new container', args: '[args...]', minArgs: 1,
    options: (c) => containerOptions(c.option('-d, --detach', 'Run container in background and print container ID')),
    handler: async () => (await import('./commands/container-run.js')).runCommand,
  },
  {
    top: 'create', group: ['container', 'create'], usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]', description: 'Create a new container', args: '[args...]', minArgs: 1,
    options: (c) => containerOptions(c),
    handler: async () => (await import('./commands/container-run.js')).createCommand,
  },
  {
    top: 'ps', group: ['container', 'ls', 'list', 'ps'], usage: '[OPTIONS]', description: 'List containers', args: '',
    options: (c) => formatOpt(c.option('-a, --all', 'Show all containers (default shows just running)').option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
      .option('-n, --last <int>', 'Show n last created containers (includes all states)').option('-l, --latest', 'Show the latest created container (includes all states)')
      .option('--no-trunc', "Don't truncate output").option('-q, --quiet', 'Only display container IDs').option('-s, --size', 'Display total file sizes')),
    handler: async () => (await import('./commands/container-ps.js')).psCommand,
  },
  {
    top: 'start', group: ['container', 'start'], usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Start one or more stopped containers', args: '[containers...]', minArgs: 1,
    options: (c) => c.option('-a, --attach', 'Attach STDOUT/STDERR and forward signals').option('-i, --interactive', "Attach container's STDIN"),
    handler: async () => (await import('./commands/container-ops.js')).startCommand,
  },
  {
    top: 'stop', group: ['container', 'stop'], usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Stop one or more running containers', args: '[containers...]', minArgs: 1,
    options: (c) => c.option('-t, --time <int>', 'Seconds to wait for stop before killing it', '10'),
    handler: async () => (await import('./commands/container-ops.js')).stopCommand,
  },
  {
    top: 'restart', group: ['container', 'restart'], usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Restart one or more containers', args: '[containers...]', minArgs: 1,
    options: (c) => c.option('-t, --time <int>', 'Seconds to wait for stop before killing the container', '10'),
    handler: async () => (await import('./commands/container-ops.js')).restartCommand,
  },
  {
    top: 'kill', group: ['container', 'kill'], usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Kill one or more running containers', args: '[containers...]', minArgs: 1,
    options: (c) => c.option('-s, --signal <string>', 'Signal to send to the container', 'KILL'),
    handler: async () => (await import('./commands/container-ops.js')).killCommand,
  },
  {
    top: 'rm', group: ['container', 'rm', 'remove'], usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Remove one or more containers', args: '[containers...]', minArgs: 1,
    options: (c) => c.option('-f, --force', 'Force the removal of a running container (uses SIGKILL)').option('-v, --volumes', 'Remove anonymous volumes associated with the container')
      .option('-l, --link', 'Remove the specified link'),
    handler: async () => (await import('./commands/container-ops.js')).rmCommand,
  },
  {
    top: 'logs', group: ['container', 'logs'], usage: '[OPTIONS] CONTAINER', description: 'Fetch the logs of a container', args: '[container...]', exactArgs: 1,
    options: (c) => c.option('-f, --follow', 'Follow log output').option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
      .option('-t, --timestamps', 'Show timestamps'),
    handler: async () => (await import('./commands/container-ops.js')).logsCommand,
  },
  {
    top: 'exec', group: ['container', 'exec'], usage: '[OPTIONS] CONTAINER COMMAND [ARG...]', description: 'Run a command in a running container', args: '[args...]', minArgs: 2,
    options: (c) => c.passThroughOptions().option('-d, --detach', 'Detached mode: run command in the background').option('-i, --interactive', 'Keep STDIN open even if not attached')
      .option('-t, --tty', 'Allocate a pseudo-TTY').option('-e, --env <list>', 'Set environment variables', collect, [])
      .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])').option('-w, --workdir <string>', 'Working directory inside the container'),
    handler: async () => (await import('./commands/container-exec.js')).execCommand,
  },
  {
    top: 'commit', group: ['container', 'commit'], usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]', description: "Create a new image from a container's changes", args: '[args...]', minArgs: 1, maxArgs: 2,
    options: (c) => c.option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")').option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect, [])
      .option('-m, --message <string>', 'Commit message').option('-p, --pause', 'Pause container during commit', true).option('--no-pause', 'Do not pause container during commit'),
    handler: async () => (await import('./commands/container-commit.js')).commitCommand,
  },
  {
    top: 'export', group: ['container', 'export'], usage: '[OPTIONS] CONTAINER', description: "Export a container's filesystem as a tar archive", args: '[container...]', exactArgs: 1,
    options: (c) => c.option('-o, --output <string>', 'Write to a file, instead of STDOUT'),
    handler: async () => (await import('./commands/container-commit.js')).exportCommand,
  },
  {
    group: ['container', 'prune'], usage: '[OPTIONS]', description: 'Remove all stopped containers', args: '',
    options: (c) => c.option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, []).option('-f, --force', 'Do not prompt for confirmation'),
    handler: async () => (await import('./commands/container-ops.js')).containerPruneCommand,
  },
  {
    top: 'pause', group: ['container', 'pause'], usage: 'CONTAINER [CONTAINER...]', description: 'Pause all processes within one or more containers', args: '[containers...]', minArgs: 1,
    options: (c) => c,
    handler: async () => (await import('./commands/container-state.js')).pauseCommand,
  },
  {
    top: 'unpause', group: ['container', 'unpause'], usage: 'CONTAINER [CONTAINER...]', description: 'Unpause all processes within one or more containers', args: '[containers...]', minArgs: 1,
    options: (c) => c,
    handler: async () => (await import('./commands/container-state.js')).unpauseCommand,
  },
  {
    top: 'wait', group: ['container', 'wait'], usage: 'CONTAINER [CONTAINER...]', description: 'Block until one or more containers stop, then print their exit codes', args: '[containers...]', minArgs: 1,
    options: (c) => c,
    handler: async () => (await import('./commands/container-state.js')).waitCommand,
  },
  {
    top: 'port', group: ['container', 'port'], usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]', description: 'List port mappings or a specific mapping for the container', args: '[args...]', minArgs: 1, maxArgs: 2,
    options: (c) => c,
    handler: async () => (await import('./commands/container-state.js')).portCommand,
  },
  {
    top: 'rename', group: ['container', 'rename'], usage: 'CONTAINER NEW_NAME', description: 'Rename a container', args: '[args...]', exactArgs: 2,
    options: (c) => c,
    handler: async () => (await import('./commands/container-state.js')).renameCommand,
  },
  {
    top: 'top', group: ['container', 'top'], usage: 'CONTAINER [ps OPTIONS]', description: 'Display the running processes of a container', args: '[args...]', minArgs: 1,
    options: (c) => c.passThroughOptions().allowUnknownOption(),
    handler: async () => (await import('./commands/container-state.js')).topCommand,
  },
  {
    top: '__monitor', hidden: true, usage: '[--attach] [--interactive] ID', description: 'A container monitor (internal)', args: '[id...]', exactArgs: 1,
    options: (c) => c.option('--attach', 'copy output to stdout/stderr').option('--interactive', 'keep stdin'),
    handler: async () => (await import('./commands/container-internal.js')).monitorCommand,
  },
  {
    top: '__relay', hidden: true, usage: 'SOCKET', description: 'A port relay (internal)', args: '[socket...]', exactArgs: 1,
    options: (c) => c,
    handler: async () => (await import('./commands/container-internal.js')).relayCommand,
  },
];

/** Result holder filled by the action that ran. */
interface Run { status: number }

function attach(parent: Command, name: string, aliases: string[], spec: Spec, path: string, ctx: () => CliContext, run: Run): void {
  const cmd = parent.command(`${name}${spec.args ? ` ${spec.args}` : ''}`, { hidden: Boolean(spec.hidden) }).description(spec.description).usage(spec.usage);
  for (const a of aliases) cmd.alias(a);
  spec.options(cmd);
  const info = { path, usage: spec.usage };
  cmd.exitOverride((err) => {
    if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code)) throw err;
    throw usageError(err, info);
  });
  cmd.action(async (...params: unknown[]) => {
    const opts = cmd.opts();
    const positional = params.slice(0, -2).flatMap((p) => (p === undefined ? [] : Array.isArray(p) ? (p as string[]) : [p as string]));
    if (spec.exactArgs !== undefined && positional.length !== spec.exactArgs) throw argsError(info, { exact: spec.exactArgs });
    if (spec.minArgs !== undefined && positional.length < spec.minArgs) throw argsError(info, { min: spec.minArgs });
    if (spec.maxArgs !== undefined && positional.length > spec.maxArgs) throw argsError(info, { max: spec.maxArgs });
    const handler = await spec.handler();
    const c = ctx();
    c.commandPath = path;
    run.status = (await handler(c, positional, opts)) ?? 0;
  });
}

/**
 * The command word of `argv` (the first argument after the global options)
 * when it names a top-level command or a group; undefined otherwise (no
 * command, help, or a word to report as unknown).
 */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--root') { i++; continue; }
    if (a.startsWith('--root=') || a === '-D' || a === '--debug') continue;
    if (a.startsWith('-')) return undefined;
    return SPECS.some((s) => s.top === a || s.group?.[0] === a) ? a : undefined;
  }
  return undefined;
}

/**
 * Builds the program; `run.status` holds the exit status after parseAsync.
 * With `only` (a commandWord), just that command or group is declared: a
 * start-up saving; without it, every command (help, unknown commands).
 */
export function buildProgram(ctx: () => CliContext, run: Run, only?: string): Command {
  const program = new Command('slipway').usage('[OPTIONS] COMMAND')
    .description('A daemonless, Docker-compatible tool to build, manage, run and ship container images')
    .option('--root <dir>', 'Root of the image store (default: $SLIPWAY_ROOT, /var/lib/slipway for root)')
    .option('-D, --debug', 'Enable debug mode')
    .configureOutput({ writeErr: () => undefined })
    .version(`slipway version ${VERSION}`, '-v, --version', 'Print version information and quit')
    .exitOverride((err) => {
      if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code)) throw err;
      throw usageError(err, { path: 'slipway', usage: '[OPTIONS] COMMAND' });
    })
    .enablePositionalOptions();
  const groups = new Map<string, Command>();
  for (const spec of SPECS) {
    if (spec.top && (only === undefined || only === spec.top)) attach(program, spec.top, [], spec, `slipway ${spec.top}`, ctx, run);
    if (!spec.group || (only !== undefined && only !== spec.group[0])) continue;
    const [groupName, name, ...aliases] = spec.group;
    let group = groups.get(groupName);
    if (!group) {
      group = program.command(groupName).enablePositionalOptions().description(groupName === 'system' ? 'Manage slipway' : groupName === 'builder' ? 'Manage builds' : `Manage ${groupName}s`);
      const info = { path: `slipway ${groupName}`, usage: 'COMMAND' };
      group.exitOverride((err) => {
        if (['commander.helpDisplayed', 'commander.help', 'commander.version', 'commander.executeSubCommandAsync'].includes(err.code)) throw err;
        throw usageError(err, info);
      });
      groups.set(groupName, group);
    }
    attach(group, name, aliases, spec, `slipway ${groupName} ${name}`, ctx, run);
  }
  return program;
}


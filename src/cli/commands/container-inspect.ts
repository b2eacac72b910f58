/**
 * `container inspect` and the top-level `inspect`, which finds containers
 * first and images after them, as docker/cli's inspect without --type does.
 */
import { SlipwayError } from '../../errors.js';
import { reconcile } from '../../container/lifecycle.js';
import { containerDir, findContainer, listContainerRecords, logPath, type Container } from '../../container/records.js';
import { inspectState } from '../../container/view.js';
import { executeTemplate, goJSON, parseTemplate, unescapeFormat, type Template } from '../../template/index.js';
import { configJson } from '../inspect-model.js';
import { write, type CliContext } from '../context.js';
import type { Opts } from '../program.js';
import { indentJson, inspectCommand } from './inspect.js';

/** Docker's container inspect document (API 1.41), the fields slipway knows. */
export function containerJson(root: string, c: Container): Record<string, unknown> {
  const r = c.record;
  const dir = containerDir(root, r.id);
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of r.host.ports) (bindings[`${p.containerPort}/${p.proto}`] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort ? String(p.hostPort) : '' });
  const running = inspectState(c).Running === true;
  if (running && r.host.network !== 'host') {
    for (const k of Object.keys(r.config.ExposedPorts ?? {})) ports[k] = null;
    for (const p of c.state.ports ?? []) (ports[`${p.containerPort}/${p.proto}`] ??= [])?.push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  return {
    Id: r.id, Created: r.created, Path: r.path, Args: r.args, State: inspectState(c), Image: r.image,
    ResolvConfPath: `${dir}/resolv.conf`, HostnamePath: `${dir}/hostname`, HostsPath: `${dir}/hosts`, LogPath: logPath(root, r.id),
    Name: `/${r.name}`, RestartCount: 0, Driver: 'overlay', Platform: 'linux', MountLabel: '', ProcessLabel: '', AppArmorProfile: '', ExecIDs: null,
    HostConfig: {
      Binds: r.host.binds.length > 0 ? r.host.binds : null, ContainerIDFile: '', LogConfig: { Type: 'json-file', Config: {} },
      NetworkMode: r.host.network, PortBindings: bindings, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: r.host.autoRemove,
      Runtime: r.runtime.name, Memory: r.host.memory, NanoCpus: Math.round(r.host.cpus * 1e9), Privileged: false, ReadonlyRootfs: false,
    },
    GraphDriver: { Data: { UpperDir: `${dir}/upper`, WorkDir: `${dir}/work` }, Name: 'overlay' },
    Mounts: r.host.binds.map((b) => {
      const [src, dst, mode = ''] = b.split(':');
      return { Type: 'bind', Source: src, Destination: dst, Mode: mode, RW: mode !== 'ro', Propagation: 'rprivate' };
    }),
    Config: configJson({ ...r.config, Hostname: r.config.Hostname || r.id.slice(0, 12) }),
    NetworkSettings: { Ports: ports, SandboxKey: running && c.state.pid ? `/proc/${c.state.pid}/ns/net` : '', Networks: { [r.host.network]: {} } },
  };
}

function parseFormat(format: string | undefined): Template | undefined {
  if (!format || format.trim() === 'json') return undefined;
  try {
    return parseTemplate(unescapeFormat(format));
  } catch (err) {
    throw new SlipwayError('TEMPLATE', (err as Error).message, { cause: err, exitCode: 64 });
  }
}

/** `slipway inspect` (containers, then images) and `slipway container inspect`. */
export async function inspectAnyCommand(ctx: CliContext, words: string[], opts: Opts): Promise<number> {
  const type = opts.type as string | undefined;
  const onlyContainers = ctx.commandPath === 'slipway container inspect' || type === 'container';
  if (type === 'image') return inspectCommand(ctx, words, opts);
  if (type !== undefined && type !== 'container') throw new SlipwayError('INVALID_ARGUMENT', `"${type}" is not a valid value for --type`);
  await reconcile(ctx.root);
  const all = await listContainerRecords(ctx.root);
  const found = words.map((w) => findContainer(all, w));
  if (!onlyContainers && found.every((c) => c === undefined)) return inspectCommand(ctx, words, opts);
  const tmpl = parseFormat(opts.format as string | undefined);
  const docs: unknown[] = [];
  let out = '';
  const errors: string[] = [];
  for (const [i, c] of found.entries()) {
    if (!c) {
      errors.push(onlyContainers ? `No such container: ${words[i]}` : `No such object: ${words[i]}`);
      continue;
    }
    const json = containerJson(ctx.root, c);
    if (tmpl) out += `${executeTemplate(tmpl, json, { missingKey: 'error' })}\n`;
    else docs.push(json);
  }
  if (tmpl) await ctx.out(out);
  else if ((opts.format as string | undefined)?.trim() === 'json') await ctx.out(`${goJSON(docs, { escapeHTML: true })}\n`);
  else await ctx.out(`${docs.length === 0 ? '[]' : indentJson(docs)}\n`);
  for (const e of errors) await write(ctx.stderr, `Error: ${e}\n`);
  return errors.length > 0 ? 1 : 0;
}

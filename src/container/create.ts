/**
 * A new container from an image and `run` options, as Docker's daemon
 * merges them: the command (`--entrypoint` resets the image's Cmd), the
 * environment (image Env, then `-e` values replacing by name), user,
 * working directory, hostname, exposed ports, labels and stop signal.
 */
import { SlipwayError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { ContainerConfig, ImageConfig } from '../oci/types.js';
import type { RuntimeInfo } from '../runtime/index.js';
import { createContainerRecord, type Container, type HostOptions } from './records.js';

/** What `run` was asked: the host side as the record keeps it, plus the rest. */
export interface CreateOptions extends HostOptions {
  /** The image as the user typed it (Config.Image). */
  imageName: string;
  imageId: Digest;
  manifest: Digest;
  image: ImageConfig;
  /** Arguments after the image. */
  cmd: string[];
  /** `--entrypoint` ('' clears it). */
  entrypoint?: string;
  env: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  name?: string;
  tty: boolean;
  interactive: boolean;
  detach: boolean;
  runtime: RuntimeInfo;
}

/** Merges `extra` (K=V or K) into `base`, replacing by name as Docker's ReplaceOrAppendEnvValues. */
export function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const out = [...base];
  const key = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);
  for (const e of extra) {
    const i = out.findIndex((x) => key(x) === key(e));
    if (!e.includes('=')) {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** Entrypoint and Cmd of the container, as the daemon resolves them. */
export function commandOf(img: ContainerConfig, o: Pick<CreateOptions, 'cmd' | 'entrypoint'>): { entrypoint: string[] | null; cmd: string[] | null } {
  if (o.entrypoint !== undefined) {
    return { entrypoint: o.entrypoint === '' ? null : [o.entrypoint], cmd: o.cmd.length > 0 ? o.cmd : null };
  }
  return { entrypoint: img.Entrypoint ?? null, cmd: o.cmd.length > 0 ? o.cmd : img.Cmd ?? null };
}

/** Creates the container's records (state `created`). */
export async function createContainer(root: string, o: CreateOptions): Promise<Container> {
  const img = o.image.config ?? {};
  const { entrypoint, cmd } = commandOf(img, o);
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (argv.length === 0) throw new SlipwayError('INVALID_ARGUMENT', 'No command specified', { exitCode: 125 });
  const exposed: Record<string, Record<string, never>> = { ...(img.ExposedPorts ?? {}) };
  for (const p of o.ports) exposed[`${p.containerPort}/${p.proto}`] = {};
  const config: ContainerConfig = {
    Hostname: o.hostname || '', Domainname: '', User: o.user ?? img.User ?? '',
    AttachStdin: o.interactive && !o.detach, AttachStdout: !o.detach, AttachStderr: !o.detach,
    ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
    Tty: o.tty, OpenStdin: o.interactive, StdinOnce: o.interactive && !o.detach,
    Env: mergeEnv(img.Env ?? [], o.env), Cmd: cmd, Image: o.imageName, Volumes: img.Volumes ?? null,
    WorkingDir: o.workdir ?? img.WorkingDir ?? '', Entrypoint: entrypoint, OnBuild: null, Labels: img.Labels ?? {},
    ...(img.StopSignal ? { StopSignal: img.StopSignal } : {}),
  };
  const c = await createContainerRecord(root, {
    ...(o.name !== undefined ? { name: o.name } : {}),
    image: o.imageId, manifest: o.manifest, layers: o.image.rootfs?.diff_ids ?? [],
    path: argv[0] as string, args: argv.slice(1), config,
    host: { binds: o.binds, ports: o.ports, network: o.network, autoRemove: o.autoRemove, memory: o.memory, cpus: o.cpus },
    runtime: { name: o.runtime.name, path: o.runtime.path },
  });
  return c;
}

/**
 * `docker image inspect`'s document for an image (API 1.41, as Docker 20.10
 * returns it), in two forms: the JSON object Docker prints, and the typed
 * Go-like value `--format` templates run against (structs print as `{...}`,
 * nil maps as `map[]`, nil slices as `[]`, times as Go's time.Time).
 */
import type { ContainerConfig, ImageConfig } from '../oci/types.js';
import { familiarString, parseReference } from '../oci/reference.js';
import type { ImageRecord } from '../store/records.js';
import { EMPTY_STRUCT, goNilMap, goNilSlice, goStruct, goTime } from '../template/index.js';
import { formatRFC3339Nano } from './humanize.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

type Json = Record<string, unknown>;

/** Docker's container.Config JSON: every field, `omitempty` ones only when set. */
export function configJson(c: ContainerConfig | undefined): Json {
  const v = c ?? {};
  const out: Json = {
    Hostname: v.Hostname ?? '', Domainname: v.Domainname ?? '', User: v.User ?? '',
    AttachStdin: v.AttachStdin ?? false, AttachStdout: v.AttachStdout ?? false, AttachStderr: v.AttachStderr ?? false,
  };
  if (v.ExposedPorts && Object.keys(v.ExposedPorts).length > 0) out.ExposedPorts = v.ExposedPorts;
  Object.assign(out, { Tty: v.Tty ?? false, OpenStdin: v.OpenStdin ?? false, StdinOnce: v.StdinOnce ?? false, Env: v.Env ?? null, Cmd: v.Cmd ?? null });
  if (v.Healthcheck) out.Healthcheck = v.Healthcheck;
  if (v.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, { Image: v.Image ?? '', Volumes: v.Volumes ?? null, WorkingDir: v.WorkingDir ?? '', Entrypoint: v.Entrypoint ?? null });
  Object.assign(out, { OnBuild: v.OnBuild ?? null, Labels: v.Labels ?? null });
  if (v.StopSignal) out.StopSignal = v.StopSignal;
  if (v.Shell && v.Shell.length > 0) out.Shell = v.Shell;
  return out;
}

/**
 * `{{json .Config}}` as docker/cli 28 prints it: the client decodes Config into
 * the OCI image config type (DockerOCIImageConfig), so only set fields appear,
 * in that type's order. (The 20.10 client printed the full container.Config.)
 */
export function ociConfigJson(c: ContainerConfig | undefined): Json {
  const v = c ?? {};
  const out: Json = {};
  const set = (k: string, x: unknown) => {
    const empty = x == null || x === '' || x === false || (Array.isArray(x) && x.length === 0) || (typeof x === 'object' && Object.keys(x as object).length === 0);
    if (!empty) out[k] = x;
  };
  set('User', v.User); set('ExposedPorts', v.ExposedPorts); set('Env', v.Env); set('Entrypoint', v.Entrypoint); set('Cmd', v.Cmd);
  set('Volumes', v.Volumes); set('WorkingDir', v.WorkingDir); set('Labels', v.Labels); set('StopSignal', v.StopSignal);
  set('ArgsEscaped', v.ArgsEscaped); set('Healthcheck', v.Healthcheck); set('OnBuild', v.OnBuild); set('Shell', v.Shell);
  return out;
}

const nilMap = (m: Record<string, unknown> | null | undefined, wrapEmpty = false) =>
  m == null ? goNilMap() : wrapEmpty ? Object.fromEntries(Object.keys(m).map((k) => [k, EMPTY_STRUCT])) : m;
const nilSlice = (s: string[] | null | undefined) => (s == null ? goNilSlice() : s);

/** The typed container.Config value (all 25 fields, in Go's declaration order); `json` prints `jsonForm`. */
export function configTyped(c: ContainerConfig | undefined, jsonForm: Json = configJson(c)): unknown {
  const v = c ?? {};
  return goStruct({
    Hostname: v.Hostname ?? '', Domainname: v.Domainname ?? '', User: v.User ?? '',
    AttachStdin: v.AttachStdin ?? false, AttachStdout: v.AttachStdout ?? false, AttachStderr: v.AttachStderr ?? false,
    ExposedPorts: nilMap(v.ExposedPorts, true), Tty: v.Tty ?? false, OpenStdin: v.OpenStdin ?? false, StdinOnce: v.StdinOnce ?? false,
    Env: nilSlice(v.Env), Cmd: nilSlice(v.Cmd), Healthcheck: v.Healthcheck ? goStruct({ ...v.Healthcheck }, '*container.HealthConfig') : null,
    ArgsEscaped: v.ArgsEscaped ?? false, Image: v.Image ?? '', Volumes: nilMap(v.Volumes, true), WorkingDir: v.WorkingDir ?? '',
    Entrypoint: nilSlice(v.Entrypoint), NetworkDisabled: false, MacAddress: '', OnBuild: nilSlice(v.OnBuild),
    Labels: nilMap(v.Labels), StopSignal: v.StopSignal ?? '', StopTimeout: null, Shell: nilSlice(v.Shell),
  }, '*container.Config', jsonForm);
}

/** The inspect JSON document of one image. */
export function inspectJson(rec: ImageRecord, cfg: ImageConfig): Json {
  const out: Json = {
    Id: rec.id,
    RepoTags: rec.names.map((n) => familiarString(parseReference(n))),
    RepoDigests: rec.repoDigests.map((n) => familiarString(parseReference(n))),
    Parent: cfg.parent ?? '',
    Comment: cfg.comment || (cfg.history?.[cfg.history.length - 1]?.comment ?? ''),
    Created: cfg.created ? formatRFC3339Nano(cfg.created) : ZERO_TIME,
    Container: cfg.container ?? '',
    ContainerConfig: configJson(cfg.container_config),
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: cfg.config ? configJson(cfg.config) : null,
    Architecture: cfg.architecture ?? '',
  };
  if (cfg.variant) out.Variant = cfg.variant;
  out.Os = cfg.os ?? '';
  if (cfg['os.version']) out.OsVersion = cfg['os.version'];
  Object.assign(out, {
    Size: rec.size, VirtualSize: rec.size,
    GraphDriver: { Data: null, Name: 'slipway' },
    RootFS: { Type: 'layers', ...(cfg.rootfs?.diff_ids?.length ? { Layers: cfg.rootfs.diff_ids } : {}) },
    Metadata: { LastTagTime: rec.lastTagTime ? formatRFC3339Nano(rec.lastTagTime) : ZERO_TIME },
  });
  return out;
}

/** The typed value templates see for one image (types.ImageInspect, fields in Go's order). */
export function inspectTyped(rec: ImageRecord, cfg: ImageConfig, json: Json): unknown {
  const j = json as { [k: string]: unknown; GraphDriver: Json; RootFS: Json; Metadata: { LastTagTime: string } };
  return goStruct({
    Id: j.Id, RepoTags: j.RepoTags, RepoDigests: j.RepoDigests, Parent: j.Parent, Comment: j.Comment, Created: j.Created,
    Container: j.Container, ContainerConfig: configTyped(cfg.container_config), DockerVersion: j.DockerVersion, Author: j.Author,
    Config: cfg.config ? configTyped(cfg.config, ociConfigJson(cfg.config)) : null,
    Architecture: j.Architecture, Variant: cfg.variant ?? '', Os: j.Os, OsVersion: cfg['os.version'] ?? '',
    Size: rec.size, VirtualSize: rec.size,
    GraphDriver: goStruct({ Data: goNilMap('map[string]string'), Name: 'slipway' }, 'types.GraphDriverData', j.GraphDriver),
    RootFS: goStruct({ Type: 'layers', Layers: cfg.rootfs?.diff_ids ?? goNilSlice(), BaseLayer: '' }, 'types.RootFS', j.RootFS),
    Metadata: goStruct({ LastTagTime: goTime(j.Metadata.LastTagTime) }, 'types.ImageMetadata', j.Metadata),
  }, 'types.ImageInspect', json);
}

/**
 * The image config a build writes, laid out as BuildKit writes it: top-level
 * keys sorted (the exporter re-marshals a map), the runtime config in the
 * field order of Docker's image-spec type, `OnBuild` always present.
 */
import type { ContainerConfig, HistoryEntry, ImageConfig } from '../oci/types.js';
import type { Digest } from '../oci/digest.js';

/** A Go map as json.Marshal writes it: keys sorted. */
function sortedMap<T>(m: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The runtime config in BuildKit's field order, empty optional fields left out, maps with sorted keys. */
export function orderRuntimeConfig(config: ContainerConfig): ContainerConfig {
  const c: ContainerConfig = { ...config };
  for (const k of ['ExposedPorts', 'Volumes', 'Labels'] as const) {
    const m = c[k];
    if (m) (c as Record<string, unknown>)[k] = sortedMap(m as Record<string, unknown>);
  }
  const out: ContainerConfig = {};
  const put = <K extends keyof ContainerConfig>(k: K, present: boolean) => {
    if (present) out[k] = c[k];
  };
  put('User', Boolean(c.User));
  put('ExposedPorts', c.ExposedPorts !== undefined && c.ExposedPorts !== null && Object.keys(c.ExposedPorts).length > 0);
  put('Env', c.Env !== undefined && c.Env !== null);
  put('Entrypoint', Array.isArray(c.Entrypoint));
  put('Cmd', Array.isArray(c.Cmd));
  put('Volumes', c.Volumes !== undefined && c.Volumes !== null && Object.keys(c.Volumes).length > 0);
  put('WorkingDir', Boolean(c.WorkingDir));
  put('Labels', c.Labels !== undefined && c.Labels !== null && Object.keys(c.Labels).length > 0);
  put('StopSignal', Boolean(c.StopSignal));
  put('ArgsEscaped', Boolean(c.ArgsEscaped));
  put('Healthcheck', c.Healthcheck !== undefined);
  out.OnBuild = c.OnBuild && c.OnBuild.length > 0 ? c.OnBuild : null;
  put('Shell', Array.isArray(c.Shell) && c.Shell.length > 0);
  return out;
}

/** What goes into a built image's config. */
export interface ConfigParts {
  architecture: string;
  os: string;
  variant?: string;
  author?: string;
  runtime: ContainerConfig;
  created: string | undefined;
  history: HistoryEntry[];
  diffIds: Digest[];
}

/** The serialised config with BuildKit's key order. */
export function buildConfigJson(p: ConfigParts): Buffer {
  const cfg: Record<string, unknown> = { architecture: p.architecture };
  if (p.author) cfg.author = p.author;
  cfg.config = orderRuntimeConfig(p.runtime);
  cfg.created = p.created ?? null;
  cfg.history = p.history.map((h) => ({
    ...(h.created !== undefined ? { created: h.created } : {}),
    ...(h.created_by !== undefined ? { created_by: h.created_by } : {}),
    ...(h.author !== undefined ? { author: h.author } : {}),
    ...(h.comment !== undefined ? { comment: h.comment } : {}),
    ...(h.empty_layer ? { empty_layer: true } : {}),
  }));
  cfg.os = p.os;
  cfg.rootfs = { type: 'layers', diff_ids: p.diffIds };
  if (p.variant) cfg.variant = p.variant;
  return Buffer.from(JSON.stringify(cfg));
}

/** A copy of an image config safe to modify. */
export function cloneConfig(c: ImageConfig): ImageConfig {
  return JSON.parse(JSON.stringify(c)) as ImageConfig;
}

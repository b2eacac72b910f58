// Shared helpers for the slipway CLI benchmarks (load-save.mjs, images-1000.mjs):
// timing child processes, peak RSS via /usr/bin/time -v, medians, a minimal
// ustar writer for generated archives, and rewriting one section of RESULTS.md.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding bench/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The CLI under test: $SLIPWAY_BIN, else dist/slipway, the npm bin a user runs (build it with
 * `npm run build`). A `.js` file is run with this Node (`node dist/slipway.js`).
 */
export const slipwayBin = process.env.SLIPWAY_BIN ?? path.join(repoRoot, 'dist', 'slipway');
/** The argv prefix that runs slipwayBin. */
export const slipwayCmd = slipwayBin.endsWith('.js') ? [process.execPath, slipwayBin] : [slipwayBin];

/** Fails early with a clear message when the bundle is missing. */
export function requireBin() {
  if (!fs.existsSync(slipwayBin)) throw new Error(`${slipwayBin} not found: run \`npm run build\` first (or set SLIPWAY_BIN)`);
}

const TIME = '/usr/bin/time';
/** Whether GNU time (Debian package `time`) is available for peak-RSS figures. */
export const haveGnuTime = fs.existsSync(TIME);

/**
 * Runs `argv` (no shell unless argv[0] is 'sh'), bounded by `timeoutMs`;
 * returns { ms, rssKb, cpuMs (user+sys), stdout, stderr }. Throws when it fails or times out.
 * Wall time is measured around the child (GNU time's own start-up is
 * included when `rss` is true: a fork+exec, under 1 ms).
 */
export function run(argv, { timeoutMs = 600_000, rss = false, input } = {}) {
  const full = rss && haveGnuTime ? [TIME, '-v', ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0], full.slice(1), { timeout: timeoutMs, maxBuffer: 256 << 20, input });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const stderr = r.stderr?.toString() ?? '';
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}:\n${stderr.slice(-2000)}`);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const u = /User time \(seconds\): ([\d.]+)/.exec(stderr);
  const s = /System time \(seconds\): ([\d.]+)/.exec(stderr);
  const cpuMs = u && s ? (Number(u[1]) + Number(s[1])) * 1000 : undefined;
  return { ms, rssKb: m ? Number(m[1]) : undefined, cpuMs, stdout: r.stdout.toString(), stderr };
}

/** `slipway --root <root> ...args` as an argv. */
export function slipway(root, ...args) {
  return [...slipwayCmd, '--root', root, ...args];
}

/** The median of a list of numbers (the lower middle for even lengths). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** Formats bytes per millisecond as MB/s (10^6 bytes). */
export function mbps(bytes, ms) {
  return (bytes / 1e6 / (ms / 1000)).toFixed(0);
}

/** Machine facts for the results header. */
export function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
    cores: os.cpus().length,
    cpu,
    memGiB: (os.totalmem() / 2 ** 30).toFixed(0),
    kernel: os.release(),
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

/** Prints rows (arrays of cells) as an aligned plain-text table. */
export function printTable(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  for (const r of all) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
}

/** Renders rows as a Markdown table. */
export function markdownTable(header, rows) {
  const line = (r) => `| ${r.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Replaces the section `name` of bench/RESULTS.md (between its BEGIN/END
 * markers) with `body`, or appends it when absent. Other sections are kept.
 */
export function writeResultsSection(name, body) {
  const file = path.join(repoRoot, 'bench', 'RESULTS.md');
  const begin = `<!-- BEGIN ${name} -->`;
  const end = `<!-- END ${name} -->`;
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# slipway benchmark results\n\nWritten by the scripts in bench/ (see bench/README.md); each script rewrites only its own section.\n';
  const block = `${begin}\n${body.trim()}\n${end}`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
  return file;
}

/** sha256 hex of a buffer. */
export function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/** sha256 hex of a file, streamed with 1 MiB reads. */
export async function sha256File(file) {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk);
  return h.digest('hex');
}

function octal(n, width) {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header block (512 bytes) for a regular file or a directory. */
export function tarHeader({ name, size = 0, type = 'file', mode, mtime = 1700000000 }) {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long for this writer: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode ?? (type === 'directory' ? 0o755 : 0o644), 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type === 'directory' ? '5' : '0', 156, 'ascii');
  h.write('ustar\x0000', 257, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** A whole in-memory tar of small entries ({ name, body: Buffer } or { name, type: 'directory' }). */
export function tarOf(entries) {
  const parts = [];
  for (const e of entries) {
    const size = e.body ? e.body.length : 0;
    parts.push(tarHeader({ name: e.name, size, type: e.type ?? 'file', mode: e.mode }));
    if (e.body) {
      parts.push(e.body);
      const pad = (512 - (size % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A minimal image config for the given layer diff IDs (hex without prefix). */
export function imageConfig(diffHexes, { created = '2024-01-01T00:00:00Z', label } = {}) {
  return {
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'], ...(label ? { Labels: { bench: label } } : {}) },
    rootfs: { type: 'layers', diff_ids: diffHexes.map((h) => `sha256:${h}`) },
    history: diffHexes.map((_, i) => ({ created, created_by: `/bin/sh -c #(nop) ADD file:layer${i} in /` })),
  };
}

/**
 * Writes a docker-archive to `archive`: `layers` layers, each a GNU tar of
 * `filesPerLayer` files of `fileBytes` /dev/urandom bytes under data/dN/,
 * tagged `name`. The layer tars stay in `stage/<diff hex>/layer.tar`.
 * Returns { configHex, diffs } (hex without prefix).
 */
export async function writeRandomArchive({ stage, archive, name, layers, filesPerLayer = 1, fileBytes }) {
  rmrf(stage);
  fs.mkdirSync(stage, { recursive: true });
  const diffs = [];
  for (let i = 0; i < layers; i++) {
    const root = path.join(stage, `layer${i}`);
    fs.mkdirSync(path.join(root, 'data', `d${i}`), { recursive: true });
    for (let f = 0; f < filesPerLayer; f++) {
      run(['sh', '-c', 'head -c "$1" /dev/urandom > "$2"', 'x', String(fileBytes), path.join(root, 'data', `d${i}`, `file${f}.bin`)]);
    }
    const tarFile = path.join(stage, `layer${i}.tar`);
    run(['tar', '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@1700000000', '-C', root, '-cf', tarFile, 'data']);
    rmrf(root);
    const hex = await sha256File(tarFile);
    fs.mkdirSync(path.join(stage, hex));
    fs.renameSync(tarFile, path.join(stage, hex, 'layer.tar'));
    diffs.push(hex);
  }
  const config = Buffer.from(JSON.stringify(imageConfig(diffs)));
  const configHex = sha256(config);
  fs.writeFileSync(path.join(stage, `${configHex}.json`), config);
  const manifest = [{ Config: `${configHex}.json`, RepoTags: [name], Layers: diffs.map((h) => `${h}/layer.tar`) }];
  fs.writeFileSync(path.join(stage, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
  const members = ['manifest.json', `${configHex}.json`, ...diffs.map((h) => `${h}/layer.tar`)];
  run(['tar', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@1700000000', '-C', stage, '-cf', archive, ...members]);
  return { configHex, diffs };
}

/** Removes a directory tree (no error when absent). */
export function rmrf(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Flushes dirty pages (outside any timing) so one run's writeback does not land in the next. */
export function syncDisk() {
  spawnSync('sync', [], { timeout: 120_000 });
}

/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the `top` functions by
 * self time, as { ms, pct, fn } rows, fn = 'name file:line'.
 */
export function summariseCpuProfile(file, top = 15) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = (prof.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const cf = byId.get(id)?.callFrame;
    const key = cf ? `${cf.functionName || '(anonymous)'} ${path.basename(cf.url || '')}${cf.url ? `:${cf.lineNumber + 1}` : ''}`.trim() : '?';
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([fn, ms]) => ({ ms: ms.toFixed(0), pct: ((ms / total) * 100).toFixed(1), fn }));
}

/** Runs argv under `node --cpu-prof` (argv[0] must be node) and returns the summary rows. */
export function profile(argv, dir, top = 15) {
  rmrf(dir);
  fs.mkdirSync(dir, { recursive: true });
  run([argv[0], '--cpu-prof', `--cpu-prof-dir=${dir}`, ...argv.slice(1)]);
  const f = fs.readdirSync(dir).find((n) => n.endsWith('.cpuprofile'));
  if (!f) throw new Error(`no .cpuprofile written in ${dir}`);
  return summariseCpuProfile(path.join(dir, f), top);
}

// Push and pull of a 1 GiB, 5-layer image (random data) to a docker-registry
// on 127.0.0.1, side by side with curl moving the same bytes, docker
// push/pull (when a reference engine answers) and skopeo copy. Writes the
// `registry-1024MB` section of bench/RESULTS.md.
//
// Download rows are also run with the store (and curl's files) on tmpfs
// (/dev/shm, where fsync is free), to separate the software side from the
// disk, and a durable `curl + sync` baseline stands beside plain curl.
//
// Usage: npm run build && node bench/registry-bench.mjs [--size-mb N] [--runs N]
// (re-runs itself under `flock /tmp/bench.lock`, so two benches never overlap).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  machine, markdownTable, mbps, median, printTable, requireBin, rmrf, run, slipway, syncDisk, writeRandomArchive, writeResultsSection,
} from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
if (!process.env.SLIPWAY_BENCH_LOCKED) {
  const r = spawnSync('flock', ['/tmp/bench.lock', process.execPath, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, SLIPWAY_BENCH_LOCKED: '1' } });
  process.exit(r.status ?? 1);
}
const sizeMb = arg('--size-mb', 1024);
const runs = arg('--runs', 1);
const LAYERS = 5;
const dir = path.join(os.tmpdir(), `slipway-registry-bench-${sizeMb}`);
const shm = fs.existsSync('/dev/shm') ? path.join('/dev/shm', `slipway-registry-bench-${process.pid}`) : undefined;
const DOCKER = '/usr/bin/docker';
requireBin();
fs.mkdirSync(dir, { recursive: true });

async function generate() {
  const archive = path.join(dir, 'image.tar');
  const metaFile = path.join(dir, 'meta.json');
  if (fs.existsSync(archive) && fs.existsSync(metaFile)) return JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  const stage = path.join(dir, 'stage');
  const { diffs } = await writeRandomArchive({ stage, archive, name: 'bench/reg:1', layers: LAYERS, fileBytes: Math.floor((sizeMb << 20) / LAYERS) });
  const meta = { archive, diffs, layerFiles: diffs.map((h) => path.join(stage, h, 'layer.tar')), bytes: diffs.reduce((n, h) => n + fs.statSync(path.join(stage, h, 'layer.tar')).size, 0) };
  fs.writeFileSync(metaFile, JSON.stringify(meta));
  return meta;
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRegistry() {
  const port = await freePort();
  const data = path.join(dir, 'registry-data');
  rmrf(data);
  const cfg = path.join(dir, 'registry.yml');
  fs.writeFileSync(cfg, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${data}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn('/usr/bin/docker-registry', ['serve', cfg], { stdio: 'ignore' });
  process.on('exit', () => child.kill('SIGKILL'));
  for (let i = 0; i < 100; i++) {
    if (spawnSync('curl', ['-sf', `http://127.0.0.1:${port}/v2/`]).status === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host: `127.0.0.1:${port}`, child };
}

/** curl: monolithic upload of each file (POST, then PUT streaming the file with -T), sequentially. */
function curlUpload(host, repo, files) {
  const script = `for f in "$@"; do
    d=$(sha256sum "$f" | cut -c1-64)
    loc=$(curl -sf -X POST -D - -o /dev/null "http://${host}/v2/${repo}/blobs/uploads/" | tr -d '\\r' | sed -n 's/^[Ll]ocation: //p')
    case "$loc" in http*) ;; *) loc="http://${host}$loc";; esac
    case "$loc" in *\\?*) sep='&';; *) sep='?';; esac
    curl -sf -X PUT -H 'Content-Type: application/octet-stream' -T "$f" "$loc\${sep}digest=sha256:$d" -o /dev/null || exit 1
  done`;
  return ['sh', '-c', script, 'x', ...files];
}

/** curl of each blob to a file in `out`, sequentially; with `durable`, then `sync FILES` (fsync of each, as the store does). */
function curlDownload(host, repo, digests, out, durable = false) {
  const sync = durable ? ` && sync ${digests.map((d) => `"${out}/${d}"`).join(' ')}` : '';
  return ['sh', '-c', `for d in "$@"; do curl -sf -o "${out}/$d" "http://${host}/v2/${repo}/blobs/sha256:$d" || exit 1; done${sync}`, 'x', ...digests];
}

/** CPU ms (user + system) the registry process has used so far. */
function registryCpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (100 Hz on Linux)
}

/**
 * Times `variants` ({ argv, prep }) `runs` times each, interleaved (one run
 * of every variant per round, so drift in the machine's load spreads over
 * all of them); `sync` before each run. Returns, for each, the medians of
 * wall ms, the client's CPU ms (GNU time) and the registry's CPU ms.
 */
function timeInterleaved(variants, regPid) {
  const m = variants.map(() => ({ ms: [], cpu: [], reg: [] }));
  for (let r = 0; r < runs; r++) {
    variants.forEach((v, i) => {
      v.prep?.();
      syncDisk();
      const r0 = registryCpuMs(regPid);
      const res = run(v.argv, { timeoutMs: 1_200_000, rss: true });
      m[i].reg.push(registryCpuMs(regPid) - r0);
      m[i].ms.push(res.ms);
      m[i].cpu.push(res.cpuMs ?? NaN);
    });
  }
  return m.map((x) => ({ ms: median(x.ms), cpu: median(x.cpu), reg: median(x.reg) }));
}

/** SHA-256 throughput of this machine's OpenSSL on 1 MiB blocks (bytes/s; SHA-NI where the CPU has it). */
function sha256Rate() {
  const out = run(['openssl', 'speed', '-evp', 'sha256', '-bytes', '1048576', '-seconds', '2']).stdout;
  const m = /^sha256\s+([\d.]+)k/m.exec(out);
  return m ? Number(m[1]) * 1000 : NaN;
}

/** CRC-32 throughput of Node's zlib (the check gunzip makes), bytes/s; NaN without zlib.crc32 (Node < 20.15). */
async function crc32Rate() {
  const zlib = await import('node:zlib');
  if (typeof zlib.crc32 !== 'function') return NaN;
  const buf = (await import('node:crypto')).randomBytes(64 << 20);
  const t0 = process.hrtime.bigint();
  let c = 0;
  for (let i = 0; i < 8; i++) c = zlib.crc32(buf, c);
  return (8 * buf.length) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** One timed run (the push rows: a second push would find the blobs already in the repository). */
function time(argv, prep) {
  prep?.();
  syncDisk();
  return run(argv, { timeoutMs: 1_200_000 }).ms;
}

/**
 * The least CPU a verifying pull needs, from rates measured on this
 * machine: SHA-256 of the blob (and, for gzip, of the tar: the diff ID),
 * gunzip's CRC-32, what the registry spent serving curl the same blobs, and
 * what curl itself spent receiving and writing them. Spread perfectly over
 * every core, with no start-up, no JavaScript and no fsync, that CPU gives
 * the floor wall time, set beside the wall time the 70%-of-curl target
 * allows. Returns markdown.
 */
function pullFloor(D, { sha, crc, cores }) {
  if (!D.curlGz || !D.curlRaw || Number.isNaN(sha)) return '';
  const ms = (bytes, rate) => (bytes / rate) * 1000;
  const lines = [
    ['gzip layers', 2, D.curlGz, D.pullGz, ms(D.curlGz.bytes, sha) + ms(meta.bytes, sha), Number.isNaN(crc) ? 0 : ms(meta.bytes, crc)],
    ['uncompressed layers', 1, D.curlRaw, D.pullRaw, ms(meta.bytes, sha), 0],
  ].map(([what, hashes, curl, pull, hashMs, crcMs]) => {
    const sum = hashMs + crcMs + curl.reg + curl.cpu;
    return [what, `${hashes} × ${(hashMs / hashes).toFixed(0)}`, crcMs ? crcMs.toFixed(0) : '-', curl.reg.toFixed(0), curl.cpu.toFixed(0), sum.toFixed(0), (sum / cores).toFixed(0), (curl.ms / 0.7).toFixed(0), pull ? pull.ms.toFixed(0) : ''];
  });
  const head = ['pull of', 'SHA-256 ms', 'CRC-32 ms', 'registry CPU ms (serving curl)', "curl's own CPU ms (receive + write)", 'sum ms', `floor wall ms (sum / ${cores} cores)`, '70% of plain curl: max wall ms', 'slipway wall ms'];
  return `Floor: the least CPU a verifying pull needs on this machine (OpenSSL SHA-256 on 1 MiB blocks ${(sha / 1e9).toFixed(2)} GB/s,
Node zlib CRC-32 ${Number.isNaN(crc) ? 'n/a' : `${(crc / 1e9).toFixed(2)} GB/s`}, the registry's and curl's CPU from the curl rows above), spread perfectly
over ${cores} cores with no start-up, no JavaScript, no inflate copy and no fsync:

${markdownTable(head, lines)}
`;
}

const meta = await generate();
const reg = await startRegistry();
const h = reg.host;
const m = machine();
const rows = [];
const ratio = (bytes, ms, base) => (base ? (bytes / ms / (base.bytes / base.ms)).toFixed(2) : '');
const cpuCell = (x) => (x === undefined || Number.isNaN(x) ? '' : x.toFixed(0));
const add = (variant, bytes, ms, base, durableBase, cpu) => rows.push([variant, (bytes / 2 ** 20).toFixed(0), ms.toFixed(0), mbps(bytes, ms), ratio(bytes, ms, base), ratio(bytes, ms, durableBase), cpuCell(cpu?.cpu), cpuCell(cpu?.reg)]);

const storeA = path.join(dir, 'store-a');
rmrf(storeA);
run(slipway(storeA, 'load', '-i', meta.archive), { timeoutMs: 600_000 });
const resetRecords = () => rmrf(path.join(storeA, 'registry'));
let n = 0;
const tagged = (label) => {
  const name = `${h}/bench/${label}-${n++}:1`;
  run(slipway(storeA, 'tag', 'bench/reg:1', name));
  return name;
};

// Uploads. The registry keeps blobs across repositories; each run pushes to a new repository, so every byte is sent again.
const files = meta.layerFiles;
const curlUp = { bytes: meta.bytes, ms: time(curlUpload(h, 'bench/curl-raw', files)) };
add('curl upload of the 5 layer tars (sequential, monolithic PUT -T)', meta.bytes, curlUp.ms);
const rawPush = time(slipway(storeA, 'push', '-q', '--compression', 'uncompressed', tagged('raw')), resetRecords);
add('slipway push --compression uncompressed', meta.bytes, rawPush, curlUp);
const gzName = tagged('gz');
const gzPush = time(slipway(storeA, 'push', '-q', gzName), resetRecords);
add('slipway push (gzip level 6, compresses on the fly)', meta.bytes, gzPush, curlUp);
const zstdPush = time(slipway(storeA, 'push', '-q', '--compression', 'zstd', tagged('zstd')), resetRecords);
add('slipway push --compression zstd (zstd -3 -T0)', meta.bytes, zstdPush, curlUp);

// The gzip blobs slipway pushed: the same bytes for curl.
const manifest = JSON.parse(run(['curl', '-sf', '-H', 'Accept: application/vnd.docker.distribution.manifest.v2+json', `http://${h}/v2/${gzName.slice(h.length + 1, -2)}/manifests/1`]).stdout);
const gzDigests = manifest.layers.map((l) => l.digest.slice(7));
const gzBytes = manifest.layers.reduce((s, l) => s + l.size, 0);
const blobDir = path.join(dir, 'curl-blobs');
const shmBlobs = shm && path.join(shm, 'curl-blobs');
const fresh = (d) => () => { rmrf(d); fs.mkdirSync(d, { recursive: true }); };
const gzRepo = gzName.slice(h.length + 1, -2);
const rawRepo = `bench/raw-0`;
const storeB = path.join(dir, 'store-b');
const storeShm = shm && path.join(shm, 'store');
const skopeoDir = path.join(dir, 'skopeo-out');
const dockerUp = spawnSync(DOCKER, ['version'], { stdio: 'ignore' }).status === 0;
const dockerName = `${h}/bench/docker:1`;
if (dockerUp) {
  run([DOCKER, 'load', '-i', meta.archive], { timeoutMs: 600_000 });
  run([DOCKER, 'tag', 'bench/reg:1', dockerName]);
}
// skopeo copy (compresses with gzip on the way up); single run like the other pushes.
const skopeoUp = time(['skopeo', 'copy', '-q', '--dest-tls-verify=false', `docker-archive:${meta.archive}`, `docker://${h}/bench/skopeo:1`]);
const dPush = dockerUp ? time([DOCKER, 'push', dockerName]) : undefined;
const dockerRm = () => spawnSync(DOCKER, ['rmi', '-f', dockerName, 'bench/reg:1'], { stdio: 'ignore' });

// Downloads: every variant once per round, interleaved.
const down = [
  { key: 'curlGz', bytes: gzBytes, label: 'curl download of the 5 gzip blobs (sequential, to files, no fsync)', argv: curlDownload(h, gzRepo, gzDigests, blobDir), prep: fresh(blobDir) },
  { key: 'curlGzSync', bytes: gzBytes, label: 'curl + sync of the 5 gzip blobs (durable: files fsynced)', argv: curlDownload(h, gzRepo, gzDigests, blobDir, true), prep: fresh(blobDir) },
  { key: 'curlRaw', bytes: meta.bytes, label: 'curl download of the 5 layer tars (sequential, to files, no fsync)', argv: curlDownload(h, rawRepo, meta.diffs, blobDir), prep: fresh(blobDir) },
  { key: 'curlRawSync', bytes: meta.bytes, label: 'curl + sync of the 5 layer tars (durable)', argv: curlDownload(h, rawRepo, meta.diffs, blobDir, true), prep: fresh(blobDir) },
  { key: 'pullGz', bytes: meta.bytes, label: 'slipway pull (gzip layers: verify, gunzip, hash, scan, fsync)', argv: slipway(storeB, 'pull', '-q', gzName), prep: () => rmrf(storeB) },
  { key: 'pullRaw', bytes: meta.bytes, label: 'slipway pull (uncompressed layers)', argv: slipway(storeB, 'pull', '-q', `${h}/${rawRepo}:1`), prep: () => rmrf(storeB) },
  ...(shm ? [
    { key: 'shmCurlGz', bytes: gzBytes, label: 'tmpfs: curl download of the 5 gzip blobs to /dev/shm', argv: curlDownload(h, gzRepo, gzDigests, shmBlobs), prep: fresh(shmBlobs) },
    { key: 'shmCurlRaw', bytes: meta.bytes, label: 'tmpfs: curl download of the 5 layer tars to /dev/shm', argv: curlDownload(h, rawRepo, meta.diffs, shmBlobs), prep: fresh(shmBlobs) },
    { key: 'shmPullGz', bytes: meta.bytes, label: 'tmpfs: slipway pull (gzip layers), store on /dev/shm', argv: slipway(storeShm, 'pull', '-q', gzName), prep: () => { rmrf(shmBlobs); rmrf(storeShm); } },
    { key: 'shmPullRaw', bytes: meta.bytes, label: 'tmpfs: slipway pull (uncompressed layers), store on /dev/shm', argv: slipway(storeShm, 'pull', '-q', `${h}/${rawRepo}:1`), prep: () => rmrf(storeShm) },
  ] : []),
  { key: 'skopeoDown', bytes: meta.bytes, label: 'skopeo copy registry → dir (no decompression, no fsync)', argv: ['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${h}/bench/skopeo:1`, `dir:${skopeoDir}`], prep: () => { rmrf(storeShm ?? storeB); rmrf(skopeoDir); } },
  ...(dockerUp ? [{ key: 'dockerPull', bytes: meta.bytes, label: 'docker pull (dockerd 20.10)', argv: [DOCKER, 'pull', '-q', dockerName], prep: () => { rmrf(skopeoDir); dockerRm(); } }] : []),
];
const medians = timeInterleaved(down, reg.child.pid);
const D = Object.fromEntries(down.map((v, i) => [v.key, { bytes: v.bytes, ...medians[i], label: v.label }]));
const row = (k, base, durable) => D[k] && add(D[k].label, D[k].bytes, D[k].ms, base && D[base], durable && D[durable], D[k]);
row('curlGz'); row('curlGzSync', 'curlGz'); row('curlRaw'); row('curlRawSync', 'curlRaw');
row('pullGz', 'curlGz', 'curlGzSync'); row('pullRaw', 'curlRaw', 'curlRawSync');
row('shmCurlGz'); row('shmCurlRaw'); row('shmPullGz', 'shmCurlGz'); row('shmPullRaw', 'shmCurlRaw');
add('skopeo copy docker-archive → registry (gzip)', meta.bytes, skopeoUp, curlUp);
row('skopeoDown', 'curlGz', 'curlGzSync');
if (dPush !== undefined) add('docker push (dockerd 20.10, gzip)', meta.bytes, dPush, curlUp);
row('dockerPull', 'curlGz', 'curlGzSync');
if (dockerUp) dockerRm();
rmrf(skopeoDir);
if (shm) rmrf(shm);

reg.child.kill('SIGKILL');
rmrf(storeB);
rmrf(blobDir);

const header = ['variant', 'MiB', 'median wall ms', 'MB/s (uncompressed bytes)', 'vs plain curl (same target)', 'vs curl + sync (durable)', 'client CPU ms', 'registry CPU ms'];
const floor = pullFloor(D, { sha: sha256Rate(), crc: await crc32Rate(), cores: m.cores });
printTable(header, rows);
writeResultsSection(`registry-${sizeMb}MB`, `## registry push / pull, ${sizeMb} MiB image (bench/registry-bench.mjs)

${m.date}; ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}; load average at start ${m.load}
(other sessions share the machine: wall times are noisy). Registry: Debian docker-registry 2.8 (filesystem storage, HTTP) on 127.0.0.1.
Image: ${LAYERS} layers, one file of /dev/urandom data each (incompressible: gzip output ≈ input), ${meta.bytes} bytes of layer tars.
Pushes: 1 timed run each (a second push would find the blobs in the repository); downloads: ${runs} run(s) of each variant, interleaved
(one of each per round), median; \`sync\` before each run; wall time includes process start-up. Each push goes to a new repository
with slipway's layer records removed, so every layer is compressed and sent again. MB/s counts uncompressed layer bytes for every variant;
ratios divide throughput by a curl baseline over the same transfer direction and target: upload, the layer tars; download, the blobs
that were pushed, to files on the same disk as the store (\`curl + sync\`: then fsynced, as the store fsyncs every layer), or, for the
tmpfs rows, with curl's files and the store on /dev/shm (fsync costs nothing there: the software and network side alone).
slipway pull verifies the compressed digest while streaming, decompresses, hashes the diff ID, scans the tar and fsyncs each layer;
for a compressed layer it also keeps the compressed bytes in a partial file (ingest/<hex>.partial, for resuming an interrupted pull).

${markdownTable(header, rows)}

Push gzip stores 1 MiB blocks whose sampled byte entropy is near 8 bits (this image is random data: every block) and deflates the
rest at level 6 (src/registry/gzip-blocks.ts), so on this image it runs at copy speed; on compressible layers it is zlib level 6.
Pull reads each body straight into 1 MiB ring slots (a raw HTTP/1.1 GET on a socket with \`onread\`: src/registry/raw-get.ts);
the blob digest is hashed on a worker thread, the diff ID of a gzip layer on a second one (an uncompressed layer is hashed once),
3 layers at a time. Curl rows swing 1-3x between runs here (the tmpfs rows most). CPU columns: user + system time of the
client (GNU time) and of the registry process (/proc) during the run, medians.

${floor}`);

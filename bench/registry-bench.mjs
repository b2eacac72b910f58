// Push and pull of a 1 GiB, 5-layer image (random data) to a docker-registry
// on 127.0.0.1, side by side with curl moving the same bytes, docker
// push/pull (when a reference engine answers) and skopeo copy. Writes the
// `registry-1024MB` section of bench/RESULTS.md.
//
// Usage: npm run build && node bench/registry-bench.mjs [--size-mb N] [--runs N]
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
const sizeMb = arg('--size-mb', 1024);
const runs = arg('--runs', 1);
const LAYERS = 5;
const dir = path.join(os.tmpdir(), `slipway-registry-bench-${sizeMb}`);
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

function curlDownload(host, repo, digests, out) {
  return ['sh', '-c', `for d in "$@"; do curl -sf -o "${out}/$d" "http://${host}/v2/${repo}/blobs/sha256:$d" || exit 1; done`, 'x', ...digests];
}

function time(argv, prep) {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    prep?.();
    syncDisk();
    ms.push(run(argv, { timeoutMs: 1_200_000 }).ms);
  }
  return median(ms);
}

const meta = await generate();
const reg = await startRegistry();
const h = reg.host;
const m = machine();
const rows = [];
const add = (variant, bytes, ms, base) => rows.push([variant, (bytes / 2 ** 20).toFixed(0), ms.toFixed(0), mbps(bytes, ms), base ? (bytes / ms / (base.bytes / base.ms)).toFixed(2) : '']);

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
const curlDown = { bytes: gzBytes, ms: time(curlDownload(h, gzName.slice(h.length + 1, -2), gzDigests, blobDir), () => { rmrf(blobDir); fs.mkdirSync(blobDir); }) };
add('curl download of the 5 gzip blobs (sequential, to files)', gzBytes, curlDown.ms);
const rawRepo = `bench/raw-0`;
const curlDownRaw = { bytes: meta.bytes, ms: time(curlDownload(h, rawRepo, meta.diffs, blobDir), () => { rmrf(blobDir); fs.mkdirSync(blobDir); }) };
add('curl download of the 5 layer tars (sequential, to files)', meta.bytes, curlDownRaw.ms);
const storeB = path.join(dir, 'store-b');
const pullGz = time(slipway(storeB, 'pull', '-q', gzName), () => rmrf(storeB));
add('slipway pull (gzip layers: verify, gunzip, hash, scan, fsync)', meta.bytes, pullGz, curlDown);
const pullRaw = time(slipway(storeB, 'pull', '-q', `${h}/${rawRepo}:1`), () => rmrf(storeB));
add('slipway pull (uncompressed layers)', meta.bytes, pullRaw, curlDownRaw);

// skopeo copy (compresses with gzip on the way up).
const skopeoUp = time(['skopeo', 'copy', '-q', '--dest-tls-verify=false', `docker-archive:${meta.archive}`, `docker://${h}/bench/skopeo:1`]);
add('skopeo copy docker-archive → registry (gzip)', meta.bytes, skopeoUp, curlUp);
const skopeoDir = path.join(dir, 'skopeo-out');
const skopeoDown = time(['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${h}/bench/skopeo:1`, `dir:${skopeoDir}`], () => rmrf(skopeoDir));
add('skopeo copy registry → dir (no decompression)', meta.bytes, skopeoDown, curlDown);
rmrf(skopeoDir);

// docker push/pull through a reference engine, when one answers (never started here).
const dockerUp = spawnSync(DOCKER, ['version'], { stdio: 'ignore' }).status === 0;
if (dockerUp) {
  run([DOCKER, 'load', '-i', meta.archive], { timeoutMs: 600_000 });
  const name = `${h}/bench/docker:1`;
  run([DOCKER, 'tag', 'bench/reg:1', name]);
  const dPush = time([DOCKER, 'push', name]);
  add('docker push (dockerd 20.10, gzip)', meta.bytes, dPush, curlUp);
  const dPull = time([DOCKER, 'pull', '-q', name], () => spawnSync(DOCKER, ['rmi', '-f', name, 'bench/reg:1'], { stdio: 'ignore' }));
  add('docker pull (dockerd 20.10)', meta.bytes, dPull, curlDown);
  spawnSync(DOCKER, ['rmi', '-f', name, 'bench/reg:1'], { stdio: 'ignore' });
}
reg.child.kill('SIGKILL');
rmrf(storeB);
rmrf(blobDir);

const header = ['variant', 'MiB', 'median wall ms', 'MB/s (uncompressed bytes)', 'throughput vs curl baseline'];
printTable(header, rows);
writeResultsSection(`registry-${sizeMb}MB`, `## registry push / pull, ${sizeMb} MiB image (bench/registry-bench.mjs)

${m.date}; ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}; load average at start ${m.load}
(other sessions share the machine: wall times are noisy). Registry: Debian docker-registry 2.8 (filesystem storage, HTTP) on 127.0.0.1.
Image: ${LAYERS} layers, one file of /dev/urandom data each (incompressible: gzip output ≈ input), ${meta.bytes} bytes of layer tars.
${runs} timed run(s) per variant (median); \`sync\` before each; wall time includes process start-up. Each push goes to a new repository
with slipway's layer records removed, so every layer is compressed and sent again. MB/s counts uncompressed layer bytes for every variant;
the ratio divides by the curl baseline over the same transfer direction (upload: the layer tars; download: the blobs that were pushed).
slipway pull verifies the compressed digest while streaming, decompresses, hashes the diff ID, scans the tar and fsyncs each layer.

${markdownTable(header, rows)}

Push gzip stores 1 MiB blocks whose sampled byte entropy is near 8 bits (this image is random data: every block) and deflates the
rest at level 6 (src/registry/gzip-blocks.ts), so on this image it runs at copy speed; on compressible layers it is zlib level 6.
Pull hashes the compressed bytes on the main thread and the diff ID on a worker thread (an uncompressed layer once), 3 layers at a time.
Only \`--runs 1\` is valid for the push rows (later runs find the blobs already in the repository); curl rows swing 1-3x between runs here.
`);

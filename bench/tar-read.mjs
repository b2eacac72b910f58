// Benchmark: read a 1 GiB tar with slipway's readTar (consuming every body)
// versus `cat file > /dev/null`, in the same run. Prints medians and the ratio.
// Usage: node bench/tar-read.mjs [runs=5]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import crypto from 'node:crypto';

const runs = Number(process.argv[2] ?? 5);
const dir = '/tmp/slipway-bench';
const tarFile = `${dir}/big.tar`;
const smallFile = `${dir}/small.tar`;
const bundle = '/tmp/layer.mjs';
fs.mkdirSync(dir, { recursive: true });

execFileSync('npx', ['esbuild', 'src/layer/index.ts', '--bundle', '--platform=node', '--format=esm', `--outfile=${bundle}`, '--log-level=warning'], { stdio: 'inherit' });
const { TarWriter, readTar } = await import(`${bundle}?t=${Date.now()}`);

async function generate(file, files, size) {
  const expected = files * (512 + size) + 1024;
  if (fs.existsSync(file) && fs.statSync(file).size === expected) return;
  const block = crypto.randomBytes(1 << 20);
  const tw = new TarWriter();
  const done = pipeline(tw, fs.createWriteStream(`${file}.tmp`));
  for (let i = 0; i < files; i++) {
    const chunks = function* () {
      for (let left = size; left > 0; left -= block.length) yield block.subarray(0, Math.min(left, block.length));
    };
    await tw.addEntry({ name: `data/file-${i}.bin`, size, mode: 0o644, mtime: 1700000000 }, chunks());
  }
  await tw.finish();
  await done;
  fs.renameSync(`${file}.tmp`, file);
}

await generate(tarFile, 8, 128 << 20); // 8 x 128 MiB = 1 GiB
await generate(smallFile, 20000, 4096); // 20k small files, ~90 MiB

async function readAll(file, highWaterMark) {
  let bytes = 0;
  let entries = 0;
  for await (const entry of readTar(fs.createReadStream(file, { highWaterMark }))) {
    entries++;
    for await (const chunk of entry) bytes += chunk.length;
  }
  return { bytes, entries };
}

function cat(file) {
  const r = spawnSync('sh', ['-c', 'cat "$1" > /dev/null', 'x', file]);
  if (r.status !== 0) throw new Error('cat failed');
}

async function time(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(label, file, fn) {
  await fn(); // warm the page cache and the JIT
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await time(fn));
  const size = fs.statSync(file).size;
  const m = median(times);
  console.log(`${label.padEnd(36)} median ${(m * 1000).toFixed(0).padStart(6)} ms  ${(size / m / 1e6).toFixed(0).padStart(6)} MB/s`);
  return m;
}

console.log(`tar: ${tarFile} (${(fs.statSync(tarFile).size / 2 ** 30).toFixed(2)} GiB), ${runs} runs each`);
const tCat = await measure('cat big.tar > /dev/null', tarFile, () => cat(tarFile));
const check = await readAll(tarFile, 1 << 20);
if (check.bytes !== 8 * (128 << 20) || check.entries !== 8) throw new Error(`read back ${JSON.stringify(check)}`);
const tRead1m = await measure('readTar big.tar (1 MiB reads)', tarFile, () => readAll(tarFile, 1 << 20));
const tRead64k = await measure('readTar big.tar (64 KiB reads)', tarFile, () => readAll(tarFile, 64 << 10));
console.log(`ratio readTar/cat: ${(tRead1m / tCat).toFixed(2)} (1 MiB reads), ${(tRead64k / tCat).toFixed(2)} (64 KiB reads)`);

const tCatSmall = await measure('cat small.tar > /dev/null', smallFile, () => cat(smallFile));
const tSmall = await measure('readTar small.tar (20k x 4 KiB)', smallFile, () => readAll(smallFile, 1 << 20));
console.log(`small files: ${(20000 / tSmall / 1000).toFixed(0)}k entries/s, ratio readTar/cat ${(tSmall / tCatSmall).toFixed(2)}`);

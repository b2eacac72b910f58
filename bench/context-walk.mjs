// Benchmark: the build context of `COPY . /app` over 20,000 small files (~200 MB)
// plus one 512 MB file: walk + source selection + content checksum, cold (no stat
// cache) and warm (stat cache from the previous run), versus
// `tar cf - . | sha256sum` over the same directory, in the same run.
// Each measurement is a fresh process (start-up included); peak RSS via GNU time.
// Usage: node bench/context-walk.mjs [runs=3]   (needs ~750 MB in /tmp; cleans up)
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { haveGnuTime, median, printTable, run } from './lib.mjs';

const runs = Number(process.argv[2] ?? 3);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-ctx-bench-'));
const ctxDir = path.join(root, 'ctx');
const bundle = path.join(root, 'context.mjs');
const worker = path.join(root, 'worker.mjs');
const cacheFile = path.join(root, 'stat-cache.json');

function generate() {
  const block = crypto.randomBytes(1 << 20);
  let total = 0;
  for (let i = 0; i < 20000; i++) {
    const d = path.join(ctxDir, `d${i % 50}`, `e${Math.floor(i / 50) % 20}`);
    if (i < 1000) fs.mkdirSync(d, { recursive: true });
    const size = 2048 + ((i * 7919) % 16384); // 2–18 KiB, ~10 KiB average
    const off = (i * 4099) % (block.length - size);
    fs.writeFileSync(path.join(d, `f${i}.txt`), block.subarray(off, off + size));
    total += size;
  }
  const fd = fs.openSync(path.join(ctxDir, 'big.bin'), 'w');
  for (let i = 0; i < 512; i++) fs.writeSync(fd, block);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(ctxDir, '.dockerignore'), '*.log\n');
  return total + 512 * (1 << 20);
}

const WORKER = `
import { loadIgnore, openContext, resolveSources, checksumSources } from ${JSON.stringify(bundle)};
const [dir, cacheFile] = process.argv.slice(2);
const t0 = performance.now();
const ctx = openContext({ dir, ignore: loadIgnore({ contextDir: dir, dockerfilePath: dir + '/Dockerfile' }) });
const plan = resolveSources(ctx, { sources: ['.'], dest: '/app' });
const t1 = performance.now();
const r = await checksumSources(plan, { cacheFile });
const t2 = performance.now();
console.log(JSON.stringify({ entries: plan.entries.length, walkMs: t1 - t0, sumMs: t2 - t1, bytesHashed: r.bytesHashed, hits: r.cacheHits }));
`;

try {
  execFileSync('npx', ['esbuild', 'src/build/context/index.ts', '--bundle', '--platform=node', '--format=esm', `--outfile=${bundle}`, '--log-level=warning'], { stdio: 'inherit' });
  fs.writeFileSync(worker, WORKER);
  console.log(`generating the context in ${ctxDir} ...`);
  const bytes = generate();
  console.log(`${(bytes / 1e6).toFixed(0)} MB in 20,001 files; ${runs} runs each; GNU time: ${haveGnuTime ? 'yes' : 'no'}`);
  await new Promise((r) => setTimeout(r, 100)); // let the newest files leave the stat cache's racy window
  run(['sh', '-c', `cd "${ctxDir}" && tar cf - . | sha256sum`]); // warm the page cache
  const tar = [], cold = [], warm = [];
  let sample;
  for (let i = 0; i < runs; i++) {
    tar.push(run(['sh', '-c', `cd "${ctxDir}" && tar cf - . | sha256sum`], { rss: true }));
    fs.rmSync(cacheFile, { force: true });
    const c = run([process.execPath, worker, ctxDir, cacheFile], { rss: true });
    cold.push(c);
    const w = run([process.execPath, worker, ctxDir, cacheFile], { rss: true });
    warm.push(w);
    sample = { cold: JSON.parse(c.stdout), warm: JSON.parse(w.stdout) };
  }
  const med = (xs) => median(xs.map((x) => x.ms));
  const rss = (xs) => (haveGnuTime ? `${(Math.max(...xs.map((x) => x.rssKb ?? 0)) / 1024).toFixed(0)} MB` : 'n/a');
  const base = med(tar);
  printTable(['workload', 'median', 'ratio to tar|sha256sum', 'peak RSS'], [
    ['tar cf - . | sha256sum', `${base.toFixed(0)} ms`, '1.00', rss(tar)],
    ['slipway context, cold (walk + checksum)', `${med(cold).toFixed(0)} ms`, (med(cold) / base).toFixed(2), rss(cold)],
    ['slipway context, warm (stat cache)', `${med(warm).toFixed(0)} ms`, (med(warm) / base).toFixed(2), rss(warm)],
  ]);
  console.log('last run detail:', JSON.stringify(sample));
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}

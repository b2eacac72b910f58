// Benchmark: `images` and `inspect` wall time (CLI start-up included) on a
// store holding 1,000 images, built by ONE `slipway load` of a generated
// docker-archive (each image: one tiny distinct layer, two tags).
// Usage: node bench/images-1000.mjs
//   BENCH_IMAGES=1000   number of images
//   BENCH_RUNS=20       timed runs per command (after 3 warm-ups)
//   BENCH_DIR=/tmp/slipway-bench-1000   work folder (deleted at the end unless BENCH_KEEP=1)
//   BENCH_PROFILE=1     also profile one `images` and one `inspect` (node --cpu-prof)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  imageConfig, machine, markdownTable, median, printTable, profile, requireBin, rmrf, run, sha256, slipway, slipwayBin, slipwayCmd, tarOf,
  writeResultsSection,
} from './lib.mjs';

const count = Number(process.env.BENCH_IMAGES ?? 1000);
const runs = Number(process.env.BENCH_RUNS ?? 20);
const dir = process.env.BENCH_DIR ?? '/tmp/slipway-bench-1000';
const store = path.join(dir, 'store');
const archive = path.join(dir, 'images.tar');
const pad = (i) => String(i).padStart(4, '0');

requireBin();
rmrf(dir);
fs.mkdirSync(dir, { recursive: true });

/** The archive: `count` images, each a one-file layer and the tags bench/img-NNNN:v1 and :latest. */
function generate() {
  const members = [];
  const manifest = [];
  const ids = [];
  for (let i = 0; i < count; i++) {
    const layer = tarOf([
      { name: 'data/', type: 'directory' },
      { name: `data/img-${pad(i)}.txt`, body: Buffer.from(`image ${i}\n`) },
    ]);
    const diff = sha256(layer);
    const day = String(1 + (i % 28)).padStart(2, '0');
    const config = Buffer.from(JSON.stringify(imageConfig([diff], { created: `2024-0${1 + (i % 9)}-${day}T12:00:00Z`, label: `n${i}` })));
    const cfgHex = sha256(config);
    ids.push(cfgHex);
    members.push({ name: `${diff}/layer.tar`, body: layer }, { name: `${cfgHex}.json`, body: config });
    manifest.push({ Config: `${cfgHex}.json`, RepoTags: [`bench/img-${pad(i)}:v1`, `bench/img-${pad(i)}:latest`], Layers: [`${diff}/layer.tar`] });
  }
  members.unshift({ name: 'manifest.json', body: Buffer.from(`${JSON.stringify(manifest)}\n`) });
  fs.writeFileSync(archive, tarOf(members));
  return ids;
}

const loadAtStart = machine().load;
const ids = generate();
console.log(`archive: ${archive} (${count} images, ${(fs.statSync(archive).size / 2 ** 20).toFixed(1)} MiB)`);
const loaded = run(slipway(store, 'load', '-i', archive), { rss: true, timeoutMs: 900_000 });
const loadedLines = loaded.stdout.trim().split('\n').filter((l) => l.startsWith('Loaded image: ')).length;
if (loadedLines !== 2 * count) throw new Error(`load printed ${loadedLines} "Loaded image" lines, expected ${2 * count}`);
console.log(`one load of ${count} images: ${(loaded.ms / 1000).toFixed(2)} s, peak RSS ${((loaded.rssKb ?? 0) / 1024).toFixed(0)} MB`);

// Sanity checks before timing: the commands must do the full work.
const mid = Math.floor(count / 2);
const name = `bench/img-${pad(mid)}:v1`;
const short = ids[mid].slice(0, 12);
const imagesOut = run(slipway(store, 'images')).stdout.trim().split('\n');
if (imagesOut.length !== 2 * count + 1) throw new Error(`images printed ${imagesOut.length} lines, expected ${2 * count + 1}`);
const quiet = run(slipway(store, 'images', '-a', '-q')).stdout.trim().split('\n');
if (!quiet.includes(short)) throw new Error(`images -a -q does not list ${short}`);
for (const ref of [name, short]) {
  const doc = JSON.parse(run(slipway(store, 'inspect', ref)).stdout);
  if (doc.length !== 1 || doc[0].Id !== `sha256:${ids[mid]}`) throw new Error(`inspect ${ref} returned ${doc[0]?.Id}`);
}

const node = process.execPath;
const commands = [
  { label: 'node -e 0', argv: [node, '-e', '0'] },
  { label: 'slipway --version', argv: [...slipwayCmd, '--version'] },
  { label: 'slipway images', argv: slipway(store, 'images'), target: true },
  { label: 'slipway images -a -q', argv: slipway(store, 'images', '-a', '-q'), target: true },
  { label: `slipway inspect ${name}`, argv: slipway(store, 'inspect', name), target: true },
  { label: `slipway inspect ${short}`, argv: slipway(store, 'inspect', short), target: true },
];

/** Median/min/max ms per command: hyperfine (-N, no shell) when installed, else our own loop. */
function timeAll() {
  const hf = spawnSync('hyperfine', ['--version']);
  if (hf.status === 0 && !commands.some((c) => c.argv.some((a) => /\s/.test(a)))) {
    const json = path.join(dir, 'hyperfine.json');
    run(['hyperfine', '-N', '--style', 'basic', '--warmup', '3', '--runs', String(runs), '--export-json', json,
      ...commands.map((c) => c.argv.join(' '))], { timeoutMs: 900_000 });
    const res = JSON.parse(fs.readFileSync(json, 'utf8')).results;
    return { tool: `hyperfine ${hf.stdout.toString().trim().split(' ')[1]} (-N, 3 warm-ups, ${runs} runs)`, rows: res.map((r) => ({ med: r.median * 1000, min: r.min * 1000, max: r.max * 1000 })) };
  }
  const rows = commands.map((c) => {
    for (let i = 0; i < 3; i++) run(c.argv);
    const ms = Array.from({ length: runs }, () => run(c.argv).ms);
    return { med: median(ms), min: Math.min(...ms), max: Math.max(...ms) };
  });
  return { tool: `own loop (3 warm-ups, ${runs} runs)`, rows };
}

const timed = timeAll();
const rss = commands.map((c) => run(c.argv, { rss: true }).rssKb);
const header = ['command', 'median ms', 'min ms', 'max ms', 'peak RSS MB', 'target < 300 ms'];
const rows = commands.map((c, i) => {
  const t = timed.rows[i];
  return [c.label, t.med.toFixed(0), t.min.toFixed(0), t.max.toFixed(0), rss[i] === undefined ? '-' : (rss[i] / 1024).toFixed(0),
    c.target ? (t.med < 300 ? 'met' : 'MISSED') : '(floor)'];
});
console.log(`\ntiming: ${timed.tool}`);
printTable(header, rows);

let profiles = '';
if (process.env.BENCH_PROFILE === '1') {
  for (const c of commands.filter((x) => x.target)) {
    const top = profile(c.argv, path.join(dir, 'prof'), 12);
    console.log(`\nprofile of ${c.label}: top self time`);
    printTable(['ms', '%', 'function'], top.map((r) => [r.ms, r.pct, r.fn]));
    profiles += `\nProfile of one \`${c.label}\` (node --cpu-prof), top self time:\n\n${markdownTable(['ms', '%', 'function'], top.map((r) => [r.ms, r.pct, `\`${r.fn}\``]))}\n`;
  }
}

const m = machine();
const out = writeResultsSection(`images-${count}`, `## images / inspect on a store of ${count} images (bench/images-1000.mjs)

${m.date}; ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}; load average (1/5/15 min) at start ${loadAtStart}, at end ${m.load}
(other sessions share the machine: wall times are noisy).
Store built by one \`slipway load\` of a generated docker-archive of ${count} images (each: one tiny distinct layer,
tags \`bench/img-NNNN:v1\` and \`:latest\`, so ${2 * count} names): ${(loaded.ms / 1000).toFixed(2)} s, peak RSS ${((loaded.rssKb ?? 0) / 1024).toFixed(0)} MB.
Wall time per command process, CLI start-up included; timing by ${timed.tool}; peak RSS from one \`/usr/bin/time -v\` run.
\`node -e 0\` and \`slipway --version\` are the start-up floor. \`images\` prints ${2 * count} rows; inspect targets image #${mid}
by name and by a 12-hex short ID.

${markdownTable(header, rows)}
${profiles}`);
console.log(`\nwrote ${out}`);

if (process.env.BENCH_KEEP !== '1') rmrf(dir);

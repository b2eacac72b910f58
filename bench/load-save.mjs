// Benchmark: `slipway load` and `slipway save` of a multi-layer image versus
// `cat` over the same bytes, in the same run, plus peak RSS (GNU time -v).
// Usage: node bench/load-save.mjs
//   BENCH_SIZE_MB=1024  image size (5 layers of random files; default 1 GiB)
//   BENCH_RUNS=5        timed runs per variant (after one untimed warm-up)
//   BENCH_DIR=/tmp/slipway-bench-ls   work folder (deleted at the end unless BENCH_KEEP=1)
//   BENCH_PROFILE=1     also profile one load and one save (node --cpu-prof)
import fs from 'node:fs';
import path from 'node:path';
import {
  machine, markdownTable, mbps, median, printTable, profile, requireBin, rmrf, run,
  slipway, slipwayBin, syncDisk, writeResultsSection, writeRandomArchive, haveGnuTime,
} from './lib.mjs';

const sizeMb = Number(process.env.BENCH_SIZE_MB ?? 1024);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const dir = process.env.BENCH_DIR ?? '/tmp/slipway-bench-ls';
const LAYERS = 5;
const FILES_PER_LAYER = 4;
const NAME = 'bench/big:1';
const archive = path.join(dir, 'image.tar');

requireBin();
fs.mkdirSync(dir, { recursive: true });

/** Generates the docker-archive (GNU tar layers of /dev/urandom files); reused when the size matches. */
async function generate() {
  const metaFile = path.join(dir, 'image.meta.json');
  if (fs.existsSync(archive) && fs.existsSync(metaFile)) {
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    if (meta.sizeMb === sizeMb) return meta;
  }
  const gen = path.join(dir, 'gen');
  const fileBytes = Math.floor((sizeMb * 2 ** 20) / LAYERS / FILES_PER_LAYER);
  const { configHex, diffs } = await writeRandomArchive({ stage: gen, archive, name: NAME, layers: LAYERS, filesPerLayer: FILES_PER_LAYER, fileBytes });
  rmrf(gen);
  const meta = { sizeMb, bytes: fs.statSync(archive).size, configHex, diffs };
  fs.writeFileSync(metaFile, JSON.stringify(meta));
  return meta;
}

/**
 * Runs each variant once untimed (warm-up), then `runs` rounds, variants
 * interleaved within a round; `prep` runs outside the timing, then `sync`.
 */
function measure(variants) {
  const results = variants.map(() => ({ ms: [], rss: [], cpu: [] }));
  for (let round = 0; round <= runs; round++) {
    variants.forEach((v, i) => {
      v.prep?.();
      syncDisk();
      const r = run(v.argv, { rss: true });
      v.check?.(r);
      if (round > 0) {
        results[i].ms.push(r.ms);
        if (r.rssKb !== undefined) results[i].rss.push(r.rssKb);
        if (r.cpuMs !== undefined) results[i].cpu.push(r.cpuMs);
      }
    });
  }
  return variants.map((v, i) => ({
    label: v.label, bytes: v.bytes(), ms: median(results[i].ms), all: results[i].ms,
    cpuMs: results[i].cpu.length ? median(results[i].cpu) : undefined,
    rssMaxMb: results[i].rss.length ? Math.max(...results[i].rss) / 1024 : undefined,
  }));
}

const loadAtStart = machine().load;
const meta = await generate();
const loadStore = path.join(dir, 'store-load');
const saveStore = path.join(dir, 'store-save');
const copy = path.join(dir, 'copy.tar');
const saved = path.join(dir, 'saved.tar');
const sh = (script, ...args) => ['sh', '-c', script, 'x', ...args];

console.log(`archive: ${archive} (${(meta.bytes / 2 ** 20).toFixed(0)} MiB, ${LAYERS} layers x ${FILES_PER_LAYER} files), ${runs} runs per variant after 1 warm-up`);

const loadVariants = [
  { label: 'cat image.tar > /dev/null', argv: sh('cat "$1" > /dev/null', archive), bytes: () => meta.bytes },
  { label: 'cat image.tar > copy.tar', argv: sh('cat "$1" > "$2"', archive, copy), prep: () => rmrf(copy), bytes: () => meta.bytes },
  { label: 'cat image.tar > copy.tar; sync copy.tar', argv: sh('cat "$1" > "$2" && sync "$2"', archive, copy), prep: () => rmrf(copy), bytes: () => meta.bytes },
  {
    label: 'slipway load -i image.tar', argv: slipway(loadStore, 'load', '-i', archive), prep: () => rmrf(loadStore), bytes: () => meta.bytes,
    check: (r) => { if (!r.stdout.includes(`Loaded image: ${NAME}`)) throw new Error(`load printed: ${r.stdout}`); },
  },
  // The hashing floor (OpenSSL's SHA-256, as node:crypto uses; coreutils sha256sum has no SHA-NI here and is 4x slower),
  // and a shell doing load's work (copy + sha256 + fsync) in two processes on two cores.
  { label: 'openssl dgst -sha256 image.tar', argv: ['openssl', 'dgst', '-sha256', archive], bytes: () => meta.bytes },
  {
    label: 'tee copy.tar < image.tar | openssl dgst -sha256; sync copy.tar', argv: sh('tee "$2" < "$1" | openssl dgst -sha256 > /dev/null && sync "$2"', archive, copy),
    prep: () => rmrf(copy), bytes: () => meta.bytes,
  },
];
const loadRes = measure(loadVariants);
rmrf(copy);
rmrf(loadStore);

// save: one store loaded once; the cat baseline reads the same layer blobs from that store.
rmrf(saveStore);
run(slipway(saveStore, 'load', '-i', archive));
const blobs = meta.diffs.map((h) => path.join(saveStore, 'blobs', 'sha256', h));
for (const b of blobs) if (!fs.existsSync(b)) throw new Error(`layer blob not in the store as expected: ${b}`);
const layerBytes = blobs.reduce((n, b) => n + fs.statSync(b).size, 0);
const saveVariants = [
  { label: 'cat <5 layer blobs> > /dev/null', argv: sh('cat "$@" > /dev/null', ...blobs), bytes: () => layerBytes },
  { label: 'slipway save img > /dev/null', argv: sh('"$1" --root "$2" save "$3" > /dev/null', slipwayBin, saveStore, NAME), bytes: () => fs.statSync(saved).size },
  { label: 'cat <5 layer blobs> > out.tar', argv: sh('out="$1"; shift; cat "$@" > "$out"', saved, ...blobs), prep: () => rmrf(saved), bytes: () => layerBytes },
  { label: 'slipway save -o out.tar img', argv: slipway(saveStore, 'save', '-o', saved, NAME), prep: () => rmrf(saved), bytes: () => fs.statSync(saved).size },
];
// Make sure the save output is complete before timing anything (and keep it for the byte count of the stdout variant).
run(slipway(saveStore, 'save', '-o', saved, NAME));
const listing = run(['tar', '-tf', saved]).stdout;
for (const h of meta.diffs) if (!listing.includes(`blobs/sha256/${h}`)) throw new Error(`save output lacks layer ${h}`);
const saveBytes = fs.statSync(saved).size;
saveVariants[1].bytes = () => saveBytes;
const saveRes = measure(saveVariants);

let profiles;
if (process.env.BENCH_PROFILE === '1') {
  rmrf(loadStore);
  profiles = {
    load: profile(slipway(loadStore, 'load', '-i', archive), path.join(dir, 'prof-load')),
    save: profile(slipway(saveStore, 'save', '-o', saved, NAME), path.join(dir, 'prof-save')),
  };
}

// Report.
const rows = (res, base) => res.map((r) => {
  const thr = r.bytes / r.ms;
  return [r.label, (r.bytes / 2 ** 20).toFixed(0), r.ms.toFixed(0), r.cpuMs === undefined ? '-' : r.cpuMs.toFixed(0), mbps(r.bytes, r.ms), r.rssMaxMb === undefined ? '-' : r.rssMaxMb.toFixed(0),
    base.map((b) => (thr / (b.bytes / b.ms)).toFixed(2)).join(' / ')];
});
const loadBase = loadRes.slice(0, 3);
const saveBase = [saveRes[0], saveRes[2]];
const header = ['variant', 'MiB', 'median wall ms', 'median CPU ms (user+sys)', 'MB/s', 'peak RSS MB', ''];
const loadHeader = [...header.slice(0, 6), 'throughput vs cat>/dev/null / cat>copy / cat>copy+sync'];
const saveHeader = [...header.slice(0, 6), 'throughput vs cat>/dev/null / cat>out.tar'];
console.log('\nload');
printTable(loadHeader, rows(loadRes, loadBase));
console.log('\nsave');
printTable(saveHeader, rows(saveRes, saveBase));

const ld = loadRes[3];
const sv = saveRes[3];
const loadRatio = (meta.bytes / ld.ms) / (meta.bytes / loadRes[1].ms);
const saveRatio = (sv.bytes / sv.ms) / (saveRes[2].bytes / saveRes[2].ms);
const teeRatio = (meta.bytes / ld.ms) / (meta.bytes / loadRes[5].ms);
const peak = Math.max(ld.rssMaxMb ?? 0, sv.rssMaxMb ?? 0, saveRes[1].rssMaxMb ?? 0);
const verdict = [
  `- load throughput / \`cat > copy\` throughput: **${loadRatio.toFixed(2)}** (target >= 0.80: ${loadRatio >= 0.8 ? 'met' : 'MISSED'})`,
  `- load throughput / \`tee copy | openssl dgst; sync\` throughput (same work in a shell): **${teeRatio.toFixed(2)}**`,
  `- save -o throughput / \`cat blobs > out.tar\` throughput: **${saveRatio.toFixed(2)}** (target >= 0.80: ${saveRatio >= 0.8 ? 'met' : 'MISSED'})`,
  haveGnuTime ? `- peak RSS of load/save: **${peak.toFixed(0)} MB** (target < 150 MB: ${peak < 150 ? 'met' : 'MISSED'})` : '- peak RSS: not measured (/usr/bin/time missing)',
];
console.log(`\n${verdict.join('\n').replaceAll('**', '')}`);
if (profiles) {
  for (const [k, rowsP] of Object.entries(profiles)) {
    console.log(`\nprofile of ${k}: top self time`);
    printTable(['ms', '%', 'function'], rowsP.map((r) => [r.ms, r.pct, r.fn]));
  }
}

const m = machine();
m.loadStart = loadAtStart;
const md = `## load / save, ${sizeMb} MiB image (bench/load-save.mjs)

${m.date}; ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}; load average (1/5/15 min) at start ${m.loadStart}, at end ${m.load}
(other sessions share the machine: wall times are noisy, CPU times less so).
Image: docker-archive (manifest.json + config + \`<diffID>/layer.tar\`), ${LAYERS} layers of ${FILES_PER_LAYER} random files each
(GNU tar of /dev/urandom data), archive ${meta.bytes} bytes. Page cache warm (${m.memGiB} GiB RAM, everything stays cached), no cache drop.
Each variant: 1 untimed warm-up, then ${runs} timed runs, variants interleaved per round; \`sync\` (untimed) before every run;
the load store / output file is deleted before every run (untimed). Wall time includes Node start-up (~70 ms).
Throughput = bytes / median wall time; the ratio columns divide slipway's throughput by each cat baseline's.
\`slipway load\` hashes every member, scans each layer tar for unsafe entries and **fsyncs** each blob before renaming it into
the store, so \`cat > copy.tar; sync copy.tar\` is the like-for-like baseline; \`cat > copy.tar\` (page cache only) is the one
the target names. Save's bytes include the tar headers and JSON documents (output size ${saveBytes} bytes); \`save -o\` writes
to a temp file and renames it, without fsync, like \`cat > out.tar\`.

### load
${markdownTable(loadHeader, rows(loadRes, loadBase))}

### save
${markdownTable(saveHeader, rows(saveRes, saveBase))}

All timed runs (ms): ${[...loadRes, ...saveRes].map((r) => `${r.label}: ${r.all.map((x) => x.toFixed(0)).join(', ')}`).join('; ')}.

${verdict.join('\n')}
${profiles ? Object.entries(profiles).map(([k, p]) => `\nProfile of one ${k} (node --cpu-prof), top self time:\n\n${markdownTable(['ms', '%', 'function'], p.map((r) => [r.ms, r.pct, `\`${r.fn}\``]))}\n`).join('') : ''}`;
const out = writeResultsSection(`load-save-${sizeMb}MB`, md);
console.log(`\nwrote ${out}`);

if (process.env.BENCH_KEEP !== '1') rmrf(dir);

// Benchmark (issue 4): `slipway build` side by side with `docker build` (Docker
// 20.10's BuildKit, warm daemon) and buildah, on generated workloads without RUN:
//   (a) 2-step build from the local busybox base (COPY one file, CMD)
//   (b) a 40-instruction Dockerfile (COPY/ADD/ENV/LABEL/WORKDIR/EXPOSE/...)
//   (c) a .dockerignore-heavy context (5,000 files, most ignored; ** and ! patterns)
//   (d) 20,000 small files (~200 MB) + one 512 MiB file, `COPY . /app`: cold,
//       no-change rebuild, after a content change of one small file; baseline
//       `tar cf - . | sha256sum` over the same context.
// Medians of wall time over N runs (own loop, tools interleaved per round, warm
// page cache), slipway's peak RSS by /usr/bin/time -v. Writes the `build`
// section of bench/RESULTS.md.
// Usage: node bench/build-bench.mjs   (needs ~3 GB free in /tmp and the engine's disk)
//   BENCH_RUNS=10        timed runs per scenario of (a)-(c), and of (d)'s no-change rebuild
//   BENCH_BIG_RUNS=3     timed runs of (d) cold and (d) touched (each also 1 baseline run more)
//   BENCH_SMALL_FILES=20000 BENCH_BIG_MIB=512   size of (d)
//   BENCH_TOOLS=slipway,docker,buildah   which builders (those not installed are skipped)
//   BENCH_WORKLOADS=a,b,c,d   which workloads (a subset leaves the others out of the table and targets)
//   BENCH_DIR=/tmp/slipway-bench-build   work folder (deleted at the end unless BENCH_KEEP=1)
//   BENCH_PROFILE=0|1|auto   profile slipway (node --cpu-prof): never, every (d) scenario and (a), or only missed targets
//   BENCH_WRITE=0        print only, leave bench/RESULTS.md alone
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  haveGnuTime, machine, markdownTable, median, printTable, profile, repoRoot, requireBin, rmrf, run, slipwayBin, slipwayCmd,
  syncDisk, writeResultsSection,
} from './lib.mjs';
import { buildahTool, dockerTool, lastLine, slipwayTool } from './build/tools.mjs';
import { bigContext, fortyInstructions, ignoreHeavy, touchSmall, twoStep } from './build/workloads.mjs';

const runs = Number(process.env.BENCH_RUNS ?? 10);
const bigRuns = Number(process.env.BENCH_BIG_RUNS ?? 3);
const smallFiles = Number(process.env.BENCH_SMALL_FILES ?? 20000);
const bigMiB = Number(process.env.BENCH_BIG_MIB ?? 512);
const work = process.env.BENCH_DIR ?? '/tmp/slipway-bench-build';
const wanted = (process.env.BENCH_TOOLS ?? 'slipway,docker,buildah').split(',');
const profileMode = process.env.BENCH_PROFILE ?? 'auto';
const workloads = (process.env.BENCH_WORKLOADS ?? 'a,b,c,d').split(',');
process.env.DOCKER_BUILDKIT = '1';

requireBin();
fs.mkdirSync(work, { recursive: true });
const loadAtStart = machine().load;
const tools = [slipwayTool(work, repoRoot), wanted.includes('docker') ? dockerTool() : undefined,
  wanted.includes('buildah') ? buildahTool(work, repoRoot) : undefined].filter(Boolean);
const [slip] = tools;
const skipped = ['docker', 'buildah'].filter((n) => wanted.includes(n) && !tools.some((t) => t.name.startsWith(n)));
for (const t of tools) t.setup();
console.log(`builders: ${tools.map((t) => t.name).join(', ')}${skipped.length ? ` (skipped: ${skipped.join(', ')})` : ''}`);

/** Formats a list of ms as "median (min-max)". */
const fmt = (ms) => (ms?.length ? `${median(ms).toFixed(0)}` : '-');

/**
 * Times one scenario: `warmup` untimed builds per tool, then `rounds` rounds in which
 * `prepareRound(r)` runs once, then each tool's `prepare(tool)` (untimed) and its build (timed).
 * Checks the image IDs: `sameId` requires every run to print the warm-up's ID, `newId` a new one each run.
 */
function scenario(ws, name, { rounds, warmup = 1, noCache = () => false, prepare, prepareRound, sameId, newId, sync = false }) {
  const res = new Map(tools.map((t) => [t.name, { ms: [], rss: [], ids: [] }]));
  const argv = (t) => t.build(ws, { tag: `${ws.key}:1`, noCache: noCache(t) });
  const warm = new Map();
  for (const t of tools) for (let i = 0; i < warmup; i++) warm.set(t.name, lastLine(run(argv(t), { timeoutMs: 1_200_000 }).stdout));
  for (let r = 0; r < rounds; r++) {
    prepareRound?.(r);
    for (const t of tools) {
      prepare?.(t);
      if (sync) syncDisk();
      const x = run(argv(t), { rss: t.rss, timeoutMs: 1_200_000 });
      const out = res.get(t.name);
      out.ms.push(x.ms);
      if (x.rssKb) out.rss.push(x.rssKb / 1024);
      out.ids.push(lastLine(x.stdout));
    }
    process.stdout.write('.');
  }
  for (const t of tools) {
    const { ids } = res.get(t.name);
    if (sameId && ids.some((id) => id !== warm.get(t.name))) throw new Error(`${t.name} ${ws.key}/${name}: a no-change rebuild changed the image ID (${[warm.get(t.name), ...ids].join(' ')})`);
    const seen = warmup ? [warm.get(t.name), ...ids] : ids;
    if (newId && new Set(seen).size !== seen.length) throw new Error(`${t.name} ${ws.key}/${name}: a content change did not change the image ID (${ids.join(' ')})`);
  }
  console.log(` ${ws.key} ${name}: ${tools.map((t) => `${t.name} ${fmt(res.get(t.name).ms)} ms`).join(', ')}`);
  return { ws, name, res };
}

const results = [];
const targets = [];
const profiles = [];
const wantProfile = (missed) => profileMode === '1' || (profileMode === 'auto' && missed);

/** Profiles one slipway build of `ws` (after `prep`, untimed) and keeps the top self-time rows. */
function profileSlipway(label, ws, { prep, noCache = false } = {}) {
  prep?.();
  const top = profile(slip.build(ws, { tag: `${ws.key}:1`, noCache }), path.join(work, 'prof'), 15);
  profiles.push({ label, top });
  console.log(`\nprofile of slipway ${label}: top self time`);
  printTable(['ms', '%', 'function'], top.map((r) => [r.ms, r.pct, r.fn]));
}

// Start-up floor: node itself (as the environment has it, and without NODE_EXTRA_CA_CERTS, which
// Node parses at start-up and slipway's npm bin hands on under another name) and `slipway --version`.
const floor = [['node -e 0', [process.execPath, '-e', '0']], ['node -e 0 without NODE_EXTRA_CA_CERTS', ['env', '-u', 'NODE_EXTRA_CA_CERTS', process.execPath, '-e', '0']], ['slipway --version', [...slipwayCmd, '--version']]]
  .map(([label, argv]) => { run(argv); return [label, median(Array.from({ length: runs }, () => run(argv).ms))]; });

// (a)-(c): no-change rebuild (the issue's figures) and --no-cache build.
const small = [
  { key: 'a', label: '(a) 2-step from local base', gen: twoStep },
  { key: 'b', label: '(b) 40 instructions', gen: fortyInstructions },
  { key: 'c', label: '(c) .dockerignore-heavy, 5,000 files', gen: ignoreHeavy },
];
for (const w of small.filter((x) => workloads.includes(x.key))) {
  const dir = path.join(work, `ctx-${w.key}`);
  rmrf(dir);
  const info = w.gen(dir);
  const ws = { key: w.key, label: w.label, dir, info };
  const nc = scenario(ws, 'no-change rebuild', { rounds: runs, sameId: true });
  const docker = nc.res.get('docker (BuildKit)');
  const s = median(nc.res.get('slipway').ms);
  const missed = docker ? s >= median(docker.ms) : undefined;
  targets.push({ what: `${w.label}: no-change rebuild under BuildKit's`, value: `${s.toFixed(0)} ms vs ${docker ? median(docker.ms).toFixed(0) : '-'} ms`, missed });
  nc.target = docker ? `< BuildKit (${median(docker.ms).toFixed(0)} ms)` : '< BuildKit';
  nc.missed = missed;
  results.push(nc, scenario(ws, '--no-cache build', { rounds: Math.max(3, Math.floor(runs / 2)), noCache: () => true }));
  if (wantProfile(missed)) profileSlipway(`${w.label}, no-change rebuild`, ws);
}

// (d): the big context (BENCH_WORKLOADS without d leaves it out).
let big = { bytes: 0, files: 0 };
let baseMs = [];
let base = 0;
if (workloads.includes('d')) {
  big = bigContext(path.join(work, 'ctx-d'), { smallFiles, bigMiB });
  const wsD = { key: 'd', label: `(d) ${smallFiles.toLocaleString('en')} small files + ${bigMiB} MiB file`, dir: big.dir, ownStore: true };
  const baseArgv = ['sh', '-c', 'cd "$1" && tar cf - . | sha256sum >/dev/null', 'x', big.dir];
  run(baseArgv);
  baseMs = Array.from({ length: bigRuns + 2 }, () => run(baseArgv).ms);
  base = median(baseMs);
  // The touched build must also store its new layer: its cost is taken as tar | tee FILE | sha256sum (a new file each time).
  const layerFile = path.join(work, 'layer-baseline.tar');
  const storedArgv = ['sh', '-c', 'cd "$1" && tar cf - . | tee "$2" | sha256sum >/dev/null', 'x', big.dir, layerFile];
  const storedMs = Array.from({ length: bigRuns + 2 }, () => { fs.rmSync(layerFile, { force: true }); return run(storedArgv).ms; });
  fs.rmSync(layerFile, { force: true });
  const layerCost = median(storedMs);
  console.log(`(d) context ${(big.bytes / 1e6).toFixed(0)} MB in ${big.files} files; tar cf - . | sha256sum: ${base.toFixed(0)} ms; with the tar stored (| tee FILE): ${layerCost.toFixed(0)} ms`);

  const cold = scenario(wsD, 'cold build', {
    rounds: bigRuns, warmup: 0, sync: true, noCache: (t) => t !== slip, prepare: (t) => t.prepareCold(wsD),
  });
  const nochange = scenario(wsD, 'no-change rebuild', { rounds: Math.min(runs, 5), sameId: true });
  let touchIndex = 0;
  const touch = () => touchSmall(big, 1 + (touchIndex++ % 1000));
  const touched = scenario(wsD, 'one small file changed', { rounds: bigRuns, warmup: 0, prepareRound: touch, newId: true });
  const sCold = median(cold.res.get('slipway').ms);
  const sNo = median(nochange.res.get('slipway').ms);
  const sTouch = median(touched.res.get('slipway').ms);
  cold.target = `<= 1.5 x tar+sha256sum (${(1.5 * base).toFixed(0)} ms)`;
  cold.missed = sCold > 1.5 * base;
  nochange.target = '< 500 ms';
  nochange.missed = sNo >= 500;
  touched.target = `< 2 x no-change + stored layer (${(2 * sNo + layerCost).toFixed(0)} ms)`;
  touched.missed = sTouch >= 2 * sNo + layerCost;
  results.push(cold, nochange, touched);
  targets.push(
    { what: '(d) cold build within 1.5x of the tar+sha256sum baseline', value: `${sCold.toFixed(0)} ms vs ${base.toFixed(0)} ms: ${(sCold / base).toFixed(2)}x`, missed: cold.missed },
    { what: '(d) no-change rebuild under 0.5 s', value: `${sNo.toFixed(0)} ms`, missed: nochange.missed },
    { what: '(d) one small file changed: under 2x no-change + the layer\'s cost (taken as tar | tee FILE | sha256sum: the layer must be stored)', value: `${sTouch.toFixed(0)} ms vs ${(2 * sNo + layerCost).toFixed(0)} ms (vs ${(2 * sNo + base).toFixed(0)} ms with the unstored tar+sha256sum)`, missed: touched.missed },
  );
  for (const r of [cold, nochange, touched]) {
    if (!wantProfile(r.missed)) continue;
    if (r === cold) profileSlipway('(d) cold build', wsD, { prep: () => { slip.prepareCold(wsD); syncDisk(); } });
    if (r === nochange) profileSlipway('(d) no-change rebuild', wsD);
    if (r === touched) profileSlipway('(d) one small file changed', wsD, { prep: touch });
  }
}
const rssAll = results.flatMap((r) => r.res.get('slipway').rss);
const rssMax = rssAll.length ? Math.max(...rssAll) : undefined;
targets.push({ what: 'slipway peak RSS under 200 MB (all runs)', value: rssMax ? `${rssMax.toFixed(0)} MB` : '- (no GNU time)', missed: rssMax === undefined ? undefined : rssMax >= 200 });

// dockerd's peak RSS since it started (BuildKit runs inside it): a rough comparison point.
const dockerdPid = spawnSync('pgrep', ['-o', '-x', 'dockerd']).stdout?.toString().trim();
const hwm = dockerdPid ? /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${dockerdPid}/status`, 'utf8'))?.[1] : undefined;
for (const t of tools) t.cleanup();

// Report.
const names = ['slipway', 'docker (BuildKit)', 'buildah'];
const header = ['workload', 'scenario', 'slipway ms', 'BuildKit ms', 'buildah ms', 'slipway / BuildKit', 'slipway peak RSS MB', 'target', 'verdict'];
const rows = results.map((r) => {
  const med = names.map((n) => (r.res.get(n)?.ms.length ? median(r.res.get(n).ms) : undefined));
  const rss = r.res.get('slipway').rss;
  return [r.ws.label, r.name, ...med.map((m) => (m === undefined ? '-' : m.toFixed(0))),
    med[1] ? (med[0] / med[1]).toFixed(2) : '-', rss.length ? Math.max(...rss).toFixed(0) : '-', r.target ?? '', r.missed === undefined ? '' : r.missed ? 'MISSED' : 'met'];
});
console.log('');
printTable(header, rows);
const verdict = (t) => (t.missed === undefined ? 'n/a' : t.missed ? 'MISSED' : 'met');
const allRuns = results.map((r) => `${r.ws.key} ${r.name}: ${[...r.res].filter(([, v]) => v.ms.length).map(([n, v]) => `${n} ${v.ms.map((x) => x.toFixed(0)).join(', ')}`).join('; ')}`);
const m = machine();
const body = `## build: slipway vs docker build (BuildKit) vs buildah (bench/build-bench.mjs)

${m.date}; ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}; load average (1/5/15 min) at start ${loadAtStart}, at end ${m.load}
(the machine is shared with other sessions: wall times are noisy).
Builders: slipway (\`${path.basename(slipwayBin)}\`, one process per build, start-up included: \`node -e 0\` ${floor[0][1].toFixed(0)} ms${process.env.NODE_EXTRA_CA_CERTS ? ` with this environment's NODE_EXTRA_CA_CERTS, ${floor[1][1].toFixed(0)} ms without it` : ''}, \`slipway --version\` ${floor[2][1].toFixed(0)} ms);
${tools.some((t) => t.name.startsWith('docker')) ? '`DOCKER_BUILDKIT=1 /usr/bin/docker build --network=host -q` (Docker 20.10 client and engine, warm daemon)' : 'docker: not available (skipped)'};
${tools.find((t) => t.name === 'buildah')?.version ?? 'buildah: not installed (skipped)'}${tools.some((t) => t.name === 'buildah') ? ' (`bud --layers --isolation chroot --network host -q`, vfs storage)' : ''}.
Every build uses \`-q\`. Own timing loop: tools interleaved in each round, one untimed warm-up build per tool before no-change and
--no-cache scenarios, ${runs} timed runs for (a)-(c) no-change, ${Math.max(3, Math.floor(runs / 2))} for --no-cache, ${Math.min(runs, 5)} for (d) no-change, ${bigRuns} for (d) cold and touched; medians of wall time.
Page cache warm (no cache drop). Each no-change rebuild is checked to print the same image ID as the warm-up, each (d) touched build a new one.
(d): ${(big.bytes / 1e6).toFixed(0)} MB in ${big.files} files (${smallFiles} × 10 KiB random + ${bigMiB} MiB random), baseline \`tar cf - . | sha256sum\` median ${base.toFixed(0)} ms
(runs: ${baseMs.map((x) => x.toFixed(0)).join(', ')}). Cold: slipway into a fresh store (base loaded, untimed); docker \`--no-cache\` after
\`docker builder prune -af --filter type=source.local\` (the engine's copy of the context dropped, untimed); buildah \`--no-cache\` after
\`buildah rm --all; buildah rmi --prune\`; \`sync\` before each cold run. Touched: one small file gets new random content (same size) before each round.
Peak RSS: slipway's maximum "Maximum resident set size" of \`/usr/bin/time -v\` over the timed runs${hwm ? `; dockerd's VmHWM since it started: ${(Number(hwm) / 1024).toFixed(0)} MB` : ''}.

${markdownTable(header, rows)}

### Targets (issue 4)

${markdownTable(['target', 'result', 'verdict'], targets.map((t) => [t.what, t.value, verdict(t)]))}

All timed runs (ms): ${allRuns.join('; ')}.
${profiles.map((p) => `\nProfile of one slipway ${p.label} (node --cpu-prof), top self time:\n\n${markdownTable(['ms', '%', 'function'], p.top.map((r) => [r.ms, r.pct, `\`${r.fn}\``]))}\n`).join('')}`;
if (!haveGnuTime) console.log('note: /usr/bin/time missing, no RSS figures');
if (process.env.BENCH_WRITE !== '0') console.log(`\nwrote ${writeResultsSection('build', body)}`);
else console.log(`\n${body}`);
if (process.env.BENCH_KEEP !== '1') rmrf(work);

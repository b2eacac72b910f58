// Benchmark (issue 5): RUN steps, `slipway build` side by side with `docker build`
// (Docker 20.10's BuildKit, warm daemon, --network=host), on the local busybox base:
//   (a) a 40-instruction Dockerfile with 27 RUN steps, cold (--no-cache: every step runs)
//   (b) the same after one copied file changes (the COPY and the 14 RUN steps after it run again)
//   (c) RUN overhead: (wall of 21 `RUN true` steps - wall of 1) / 20, i.e. start to layer committed per RUN
// Medians of wall time over N runs, tools interleaved per round. Writes the `run` section of bench/RESULTS.md.
// Usage: node bench/run-bench.mjs   (as root, with runc; docker if `docker version` answers)
//   BENCH_RUNS=5  BENCH_TOOLS=slipway,docker  BENCH_WRITE=0 (print only)  SLIPWAY_BIN=dist/slipway.js
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { machine, markdownTable, median, printTable, repoRoot, requireBin, rmrf, slipwayBin, slipwayCmd, writeResultsSection } from './lib.mjs';

const runs = Number(process.env.BENCH_RUNS ?? 5);
const wanted = (process.env.BENCH_TOOLS ?? 'slipway,docker').split(',');
const work = fs.mkdtempSync('/tmp/slipway-bench-run-');
const root = path.join(work, 'root');
const DOCKER = '/usr/bin/docker';

requireBin();

function sh(argv, env = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return ms;
}

const haveDocker = wanted.includes('docker') && spawnSync(DOCKER, ['version'], { stdio: 'ignore' }).status === 0
  && spawnSync(DOCKER, ['image', 'inspect', 'slipway-test/busybox:latest'], { stdio: 'ignore' }).status === 0;

const tools = [
  { name: 'slipway', build: (ctx, noCache) => [...slipwayCmd, '--root', root, 'build', '-q', ...(noCache ? ['--no-cache'] : []), '-t', 'bench-run:1', ctx] },
  ...(haveDocker ? [{ name: 'docker (BuildKit 20.10)', build: (ctx, noCache) => [DOCKER, 'build', '-q', '--network=host', ...(noCache ? ['--no-cache'] : []), '-t', 'bench-run:1', ctx], env: { DOCKER_BUILDKIT: '1' } }] : []),
];

/** The 40-instruction Dockerfile: FROM, 27 RUN, and 12 others (ARG, ENV, LABEL, WORKDIR, COPY, USER, EXPOSE, CMD). */
function forty() {
  const lines = ['FROM slipway-test/busybox:latest', 'ARG VERSION=1', 'ENV APP=/app LANG=C.UTF-8', 'LABEL bench=run', 'WORKDIR /app'];
  for (let i = 0; i < 13; i++) lines.push(`RUN mkdir -p /app/d${i} && echo ${i} > /app/d${i}/f && cat /app/d${i}/f > /dev/null`);
  lines.push('COPY input.txt /app/input.txt', 'ENV STEP=copy', 'RUN wc -c /app/input.txt > /app/size');
  for (let i = 13; i < 26; i++) lines.push(`RUN echo $VERSION-${i} >> /app/log && rm -rf /app/d${i - 13}`);
  lines.push('ARG BUILD=2', 'ENV DONE=1', 'USER root', 'EXPOSE 8080', 'LABEL done=yes', 'CMD ["/bin/sh"]');
  if (lines.length !== 40 || lines.filter((l) => l.startsWith('RUN')).length !== 27) throw new Error('workload shape');
  return `${lines.join('\n')}\n`;
}

function context(name, dockerfile) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  fs.writeFileSync(path.join(dir, 'input.txt'), 'first\n');
  return dir;
}

const trues = (k) => `FROM slipway-test/busybox:latest\n${Array.from({ length: k }, (_, i) => `RUN true # ${i}`).join('\n')}\n`;

sh([...slipwayCmd, '--root', root, 'load', '-i', path.join(repoRoot, 'test/fixtures/docker-save-busybox.tar')]);
const big = context('forty', forty());
const t1 = context('true-1', trues(1));
const t21 = context('true-21', trues(21));
const nonce = `${Date.now().toString(36)}-${process.pid}`;
const results = new Map(tools.map((t) => [t.name, { cold: [], touched: [], t1: [], t21: [] }]));
for (const t of tools) {
  sh(t.build(big, true), t.env); // warm-up: base unpacked, binaries in the page cache
  sh(t.build(t1, true), t.env);
}
/**
 * The runtime's own cost, for reference: `runc run` of `/bin/sh -c true` with runc's default spec (`runc spec`,
 * fewer mounts than Docker's) on the busybox layer unpacked by slipway (read-only rootfs, no overlay), once per round.
 */
const bareRunc = [];
function runcBundle() {
  const snaps = path.join(root, 'snapshots');
  const base = fs.readdirSync(snaps).find((n) => /^[0-9a-f]{64}$/.test(n) && JSON.parse(fs.readFileSync(path.join(snaps, n, 'diffids.json'), 'utf8')).length === 1);
  const runc = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));
  if (!base || !runc) return undefined;
  const dir = path.join(work, 'runc-bundle');
  fs.mkdirSync(dir, { recursive: true });
  sh([runc, 'spec', '--bundle', dir]);
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  spec.root = { path: path.join(snaps, base, 'fs'), readonly: true };
  spec.process.terminal = false;
  spec.process.args = ['/bin/sh', '-c', 'true'];
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return { runc, dir, n: 0 };
}
const bundle = runcBundle();
for (let r = 0; r < runs; r++) {
  if (bundle) bareRunc.push(sh([bundle.runc, '--root', path.join(work, 'runc-state'), 'run', '--bundle', bundle.dir, `bench-${process.pid}-${bundle.n++}`]));
  for (const t of tools) {
    const res = results.get(t.name);
    res.cold.push(sh(t.build(big, true), t.env));
    // Content never built before, in this run or an earlier one (BuildKit's cache outlives the bench: a
    // content seen in an earlier run made (b) a full cache hit for docker).
    fs.writeFileSync(path.join(big, 'input.txt'), `round ${r} ${t.name} ${nonce}\n`);
    res.touched.push(sh(t.build(big, false), t.env));
    res.t1.push(sh(t.build(t1, true), t.env));
    res.t21.push(sh(t.build(t21, true), t.env));
  }
}

const rows = tools.map((t) => {
  const r = results.get(t.name);
  const overhead = (median(r.t21) - median(r.t1)) / 20;
  return [t.name, median(r.cold).toFixed(0), median(r.touched).toFixed(0), overhead.toFixed(1), median(r.t1).toFixed(0)];
});
const header = ['builder', '(a) 40 instr., 27 RUN, cold ms', '(b) one COPY input changed ms', '(c) per-RUN overhead ms', 'build with 1 RUN ms'];
printTable(header, rows);
const slip = rows[0];
const dock = rows[1];
const ratio = (i) => `${(Number(slip[i]) / Number(dock[i])).toFixed(2)}×`;
const m = machine();
const body = [
  '## run: RUN steps (issue 5)',
  '',
  `Written by \`node bench/run-bench.mjs\` on ${m.cores} CPUs (${m.cpu}), kernel ${m.kernel}, ${m.node}, load ${m.load} at start; medians of ${runs} runs per scenario, builders interleaved per round, after one warm-up each.`,
  'Both builders run the same Dockerfiles on slipway-test/busybox:latest; docker is the 20.10 engine with BuildKit (`DOCKER_BUILDKIT=1 /usr/bin/docker build -q --network=host`), slipway is `node dist/slipway.js build -q` (CLI start-up included).',
  '(a) `--no-cache`: every step runs. (b) without `--no-cache`, after the copied file changed (to a content neither builder has seen, in this run or an earlier one): the COPY and the 14 RUN steps after it run. (c) `(wall(21 × RUN true) - wall(1 × RUN true)) / 20`: the cost of one more RUN, start to layer committed.',
  '',
  markdownTable(header, rows),
  '',
  `- (a) slipway ${slip[1]} ms${dock ? ` vs BuildKit ${dock[1]} ms (${ratio(1)} of BuildKit's time)` : ''}; (b) ${slip[2]} ms${dock ? ` vs ${dock[2]} ms (${ratio(2)})` : ''}; (c) ${slip[3]} ms${dock ? ` vs ${dock[3]} ms (${ratio(3)})` : ''}.`,
  `- RUN overhead: **${slip[3]} ms** (target < 50 ms: ${Number(slip[3]) < 50 ? 'met' : 'MISSED'}); ${bareRunc.length ? `a bare \`runc run\` of \`sh -c true\` (runc's default spec, no overlay) took ${median(bareRunc).toFixed(0)} ms in the same rounds (${bareRunc.map((x) => x.toFixed(0)).join(', ')}), so most of a step is the runtime` : 'runc alone was not measured'}.`,
  `- Raw runs (ms): ${tools.map((t) => { const r = results.get(t.name); return `${t.name}: cold ${r.cold.map((x) => x.toFixed(0)).join(', ')}; touched ${r.touched.map((x) => x.toFixed(0)).join(', ')}; 1 RUN ${r.t1.map((x) => x.toFixed(0)).join(', ')}; 21 RUN ${r.t21.map((x) => x.toFixed(0)).join(', ')}`; }).join(' | ')}.`,
].join('\n');
if (process.env.BENCH_WRITE !== '0') console.log(`wrote ${writeResultsSection('run', body)}`);
else console.log(body);
rmrf(work);

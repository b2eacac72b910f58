// Benchmark (issue 5): containers, `slipway run` side by side with `docker run` (Docker 20.10, warm
// daemon, --network=host or none: the reference engine has no bridge), on the local busybox image:
//   (a) `run --rm IMAGE true`, wall time of the CLI (start-up included) until it exits
//   (b) `run -d IMAGE sleep 60` then `rm -f`: start (until the ID is printed) and removal
//   (c) slipway only: `run -d -p` busybox httpd, then HTTP GETs on 127.0.0.1 through the port relay
//       (first request, then the median of 50 requests on new connections)
// Medians of wall time over N runs, tools interleaved per round. Writes the `container` section of bench/RESULTS.md.
// Usage: node bench/container-bench.mjs   (as root, with runc; docker if `docker version` answers)
//   BENCH_RUNS=15  BENCH_WRITE=0 (print only)  SLIPWAY_BIN=dist/slipway.js
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { machine, markdownTable, median, printTable, repoRoot, requireBin, rmrf, slipwayBin, slipwayCmd, writeResultsSection } from './lib.mjs';

const runs = Number(process.env.BENCH_RUNS ?? 15);
const work = fs.mkdtempSync('/tmp/slipway-bench-container-');
const root = path.join(work, 'root');
const DOCKER = '/usr/bin/docker';
const IMAGE = 'slipway-test/busybox:latest';
requireBin();

function sh(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 16 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return { ms, out: r.stdout.trim() };
}

const S = (...a) => [...slipwayCmd, '--root', root, ...a];
const haveDocker = spawnSync(DOCKER, ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0;
sh(S('load', '-i', path.join(repoRoot, 'test/fixtures/docker-save-busybox.tar')));

const tools = [
  { name: 'slipway (private netns)', run: (...a) => S('run', ...a), rm: (id) => S('rm', '-f', id) },
  { name: 'slipway --network=host', run: (...a) => S('run', '--network=host', ...a), rm: (id) => S('rm', '-f', id) },
  ...(haveDocker ? [
    { name: 'docker --network=host', run: (...a) => [DOCKER, 'run', '--network=host', ...a], rm: (id) => [DOCKER, 'rm', '-f', id] },
    { name: 'docker --network=none', run: (...a) => [DOCKER, 'run', '--network=none', ...a], rm: (id) => [DOCKER, 'rm', '-f', id] },
  ] : []),
];

const res = new Map(tools.map((t) => [t.name, { rm: [], start: [], remove: [] }]));
for (const t of tools) sh(t.run('--rm', IMAGE, 'true')); // warm-up
for (let i = 0; i < runs; i++) {
  for (const t of tools) {
    const r = res.get(t.name);
    r.rm.push(sh(t.run('--rm', IMAGE, 'true')).ms);
    const started = sh(t.run('-d', IMAGE, 'sleep', '60'));
    r.start.push(started.ms);
    r.remove.push(sh(t.rm(started.out)).ms);
  }
}

function free() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}
function get(port) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    http.get({ host: '127.0.0.1', port, path: '/passwd', agent: false }, (r) => { r.resume(); r.on('end', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6)); }).on('error', reject);
  });
}
const port = await free();
const web = sh(S('run', '-d', '-p', `127.0.0.1:${port}:80`, IMAGE, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'));
const first = await get(port);
const gets = [];
for (let i = 0; i < 50; i++) gets.push(await get(port));
sh(S('rm', '-f', web.out));
rmrf(work);

const f = (x) => x.toFixed(0);
const header = ['tool', 'run --rm true (ms)', 'run -d (ms)', 'rm -f (ms)'];
const rows = tools.map((t) => { const r = res.get(t.name); return [t.name, f(median(r.rm)), f(median(r.start)), f(median(r.remove))]; });
printTable(header, rows);
console.log(`run -d -p: first GET ${f(first)} ms after run returned; median GET on a new connection ${(median(gets)).toFixed(1)} ms`);
/** Issue 5's target for `run --rm IMAGE true` (< 250 ms, CLI start-up included) and the ratios to docker's. */
function targetLine() {
  const rm = (name) => { const r = res.get(name); return r ? median(r.rm) : undefined; };
  const slip = rm('slipway (private netns)');
  const others = tools.filter((t) => t.name.startsWith('docker')).map((t) => `${(slip / rm(t.name)).toFixed(2)}× ${t.name}'s ${f(rm(t.name))} ms`);
  return `- \`run --rm true\`: slipway ${f(slip)} ms (target < 250 ms: ${slip < 250 ? 'met' : 'MISSED'})${others.length ? `; ${others.join(', ')}` : ''}.`;
}
const m = machine();
if (process.env.BENCH_WRITE !== '0') {
  writeResultsSection('container', [
    '## containers: slipway run vs docker run (bench/container-bench.mjs)', '',
    `${m.date}, Node ${m.node}, ${m.cores} × ${m.cpu}, ${m.memGiB} GiB, kernel ${m.kernel}, load ${m.load}; medians of ${runs} runs, tools interleaved; wall time of the CLI, start-up included.`, '',
    markdownTable(header, rows), '',
    targetLine(), '',
    `Ports (slipway, \`run -d -p 127.0.0.1:P:80\` busybox httpd in a private network namespace, forwarded by the monitor through the relay process in the namespace): first GET ${f(first)} ms after \`run\` returned, then ${(median(gets)).toFixed(1)} ms per GET on a new connection (median of 50).`,
  ].join('\n'));
}

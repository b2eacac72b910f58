// The builders compared by bench/build-bench.mjs: slipway (the CLI under test),
// `docker build` with Docker 20.10's BuildKit (the reference engine, warm daemon,
// --network=host only) and buildah (vfs storage, chroot isolation) when installed.
// Each tool is { name, build(ws, { tag, noCache }) -> argv, prepareCold(ws), ... }.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { rmrf, run, slipway } from '../lib.mjs';
import { BASE } from './workloads.mjs';

/** The Docker 20.10 client (BuildKit built in), as scripts/reference-docker.sh uses it. */
export const DOCKER = '/usr/bin/docker';

/** The busybox fixture every tool loads as `slipway-test/busybox:latest`. */
export function fixture(repoRoot) {
  return path.join(repoRoot, 'test', 'fixtures', 'docker-save-busybox.tar');
}

/** The last non-empty stdout line (the image ID every tool prints with -q). */
export function lastLine(out) {
  return out.trim().split('\n').filter(Boolean).pop() ?? '';
}

/**
 * slipway: `node <bin> --root <store> build -q -t TAG [--no-cache] CONTEXT`.
 * `cold` stores are recreated (deleted, base loaded) before each cold run, untimed.
 */
export function slipwayTool(work, repoRoot) {
  const shared = path.join(work, 'slipway-store');
  const load = (store) => run(slipway(store, 'load', '-i', fixture(repoRoot)));
  return {
    name: 'slipway',
    rss: true,
    setup() { rmrf(shared); load(shared); },
    /** The store a workload uses: its own for the big context (recreated cold), else the shared one. */
    store: (ws) => (ws.ownStore ? path.join(work, `slipway-store-${ws.key}`) : shared),
    build(ws, { tag, noCache = false }) {
      return slipway(this.store(ws), 'build', '-q', '-t', tag, ...(noCache ? ['--no-cache'] : []), ws.dir);
    },
    prepareCold(ws) {
      const store = this.store(ws);
      rmrf(store);
      load(store);
    },
    cleanup() { /* the stores live under the work folder */ },
  };
}

/** Docker 20.10 + BuildKit, or undefined when no engine answers (start it with scripts/reference-docker.sh). */
export function dockerTool() {
  if (!fs.existsSync(DOCKER) || spawnSync(DOCKER, ['version'], { timeout: 20_000 }).status !== 0) return undefined;
  if (spawnSync(DOCKER, ['image', 'inspect', BASE]).status !== 0) return undefined;
  const tags = new Set();
  return {
    name: 'docker (BuildKit)',
    rss: false,
    setup() {},
    build(ws, { tag, noCache = false }) {
      tags.add(`bench-${tag}`);
      return [DOCKER, 'build', '--network=host', '-q', '-t', `bench-${tag}`, ...(noCache ? ['--no-cache'] : []), ws.dir];
    },
    /** Cold: drop the engine's copy of local contexts (the next build re-sends the whole context); builds use --no-cache. */
    prepareCold() {
      run([DOCKER, 'builder', 'prune', '-af', '--filter', 'type=source.local']);
    },
    cleanup() {
      if (tags.size) spawnSync(DOCKER, ['rmi', '-f', ...tags]);
      run([DOCKER, 'builder', 'prune', '-af']);
    },
  };
}

/** buildah with its own vfs store under the work folder (--isolation chroot, --layers for a cache), or undefined. */
export function buildahTool(work, repoRoot) {
  if (spawnSync('buildah', ['--version']).status !== 0) return undefined;
  const root = path.join(work, 'buildah');
  const base = ['buildah', '--root', path.join(root, 'storage'), '--runroot', path.join(root, 'run'), '--storage-driver', 'vfs'];
  return {
    name: 'buildah',
    rss: false,
    version: spawnSync('buildah', ['--version']).stdout.toString().trim(),
    setup() {
      rmrf(root);
      const id = lastLine(run([...base, 'pull', '-q', `docker-archive:${fixture(repoRoot)}`]).stdout);
      run([...base, 'tag', id, BASE]);
    },
    build(ws, { tag, noCache = false }) {
      return [...base, 'bud', '--isolation', 'chroot', '--network', 'host', '--layers', '-q', '-t', `bench-${tag}`,
        ...(noCache ? ['--no-cache'] : []), ws.dir];
    },
    /** Cold: remove working containers and dangling/cache images left by earlier runs; builds use --no-cache. */
    prepareCold() {
      spawnSync(base[0], [...base.slice(1), 'rm', '--all']);
      spawnSync(base[0], [...base.slice(1), 'rmi', '--prune']);
    },
    cleanup() { rmrf(root); },
  };
}

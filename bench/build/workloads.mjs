// Workload generators for bench/build-bench.mjs (issue 4: build speed and memory).
// Every workload is a build context folder holding a Dockerfile that uses only
// instructions slipway supports before issue 5 (no RUN). Contexts are written
// under the folder the caller gives; nothing is read from the network.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The base image every workload builds FROM (`slipway load -i test/fixtures/docker-save-busybox.tar`). */
export const BASE = 'slipway-test/busybox:latest';

function write(file, body) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body);
}

/** (a) 2-step build: COPY one file, CMD. Returns { dir, instructions }. */
export function twoStep(dir) {
  write(path.join(dir, 'hello.txt'), 'hello from the bench\n');
  write(path.join(dir, 'Dockerfile'), `FROM ${BASE}\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n`);
  return { dir, instructions: 3 };
}

/**
 * (b) a Dockerfile of exactly 40 instructions (FROM + 39): 15 COPY/ADD of small
 * files, 6 ENV, 6 LABEL, 4 WORKDIR, 4 EXPOSE, STOPSIGNAL, HEALTHCHECK NONE,
 * ENTRYPOINT and CMD. Returns { dir, instructions }.
 */
export function fortyInstructions(dir) {
  const lines = [`FROM ${BASE}`];
  for (let i = 0; i < 14; i++) {
    write(path.join(dir, 'files', `f${i}.txt`), `file ${i}\n`.repeat(20 + i));
    lines.push(`COPY files/f${i}.txt /opt/files/f${i}.txt`);
    if (i < 6) lines.push(`ENV BENCH_VAR_${i}=value-${i}`);
    if (i < 6) lines.push(`LABEL org.example.bench${i}="label ${i}"`);
    if (i < 4) lines.push(`WORKDIR /work/dir${i}`);
    if (i < 4) lines.push(`EXPOSE ${8000 + i}/tcp`);
  }
  write(path.join(dir, 'files', 'added.txt'), 'added\n');
  lines.push('ADD files/added.txt /opt/added.txt', 'STOPSIGNAL SIGTERM', 'HEALTHCHECK NONE',
    'ENTRYPOINT ["/bin/sh", "-c"]', 'CMD ["ls /opt/files"]');
  if (lines.length !== 40) throw new Error(`fortyInstructions produced ${lines.length} instructions`);
  write(path.join(dir, 'Dockerfile'), `${lines.join('\n')}\n`);
  return { dir, instructions: lines.length };
}

/** The .dockerignore of workload (c): `**` patterns, `!` exceptions, a leading `/`. */
export const IGNORE = `# bench: most of the context is ignored
**/node_modules
**/*.log
!**/logs/keep-*.log
**/tmp/**
**/build
*.md
!README.md
/secret.txt
`;

/**
 * (c) a .dockerignore-heavy context of `files` small files (default 5,000) in
 * 50 modules; per module 10% src/*.ts and 2% logs/keep-*.log are kept, the rest
 * (node_modules, other logs, tmp/, build/) is ignored; `COPY . /app`.
 * Returns { dir, files, kept } (kept counts regular files a correct builder copies).
 */
export function ignoreHeavy(dir, files = 5000) {
  const modules = 50;
  const per = Math.floor(files / modules);
  const body = (m, i) => `// module ${m} file ${i}\n${'x'.repeat(200 + ((m * 31 + i * 17) % 800))}\n`;
  let kept = 0;
  for (let m = 0; m < modules; m++) {
    const mod = path.join(dir, `mod${String(m).padStart(2, '0')}`);
    for (let i = 0; i < per; i++) {
      const slot = (i * 100) / per; // 0..100: which kind of file
      let rel;
      if (slot < 10) { rel = `src/file${i}.ts`; kept++; } else if (slot < 12) { rel = `logs/keep-${i}.log`; kept++; } else if (slot < 30) rel = `logs/run-${i}.log`;
      else if (slot < 70) rel = `node_modules/pkg${i % 7}/lib/index${i}.js`;
      else if (slot < 85) rel = `tmp/cache/c${i}.bin`;
      else rel = `build/out${i}.o`;
      write(path.join(mod, rel), body(m, i));
    }
  }
  write(path.join(dir, 'README.md'), 'kept by !README.md\n');
  write(path.join(dir, 'NOTES.md'), 'ignored by *.md\n');
  write(path.join(dir, 'secret.txt'), 'ignored by /secret.txt\n');
  write(path.join(dir, '.dockerignore'), IGNORE);
  write(path.join(dir, 'Dockerfile'), `FROM ${BASE}\nCOPY . /app\nCMD ["ls", "-R", "/app"]\n`);
  return { dir, files: modules * per + 3, kept: kept + 3 };
}

/**
 * (d) the big context: `smallFiles` files of `smallBytes` random bytes (default
 * 20,000 × 10 KiB ≈ 205 MB) in 100 folders, plus big.bin of `bigMiB` MiB
 * (default 512) of random bytes; `COPY . /app`. Reused when `<dir>.complete`
 * (beside it) records the same sizes. Returns { dir, bytes, files, smallFile(i) }.
 */
export function bigContext(dir, { smallFiles = 20000, smallBytes = 10240, bigMiB = 512 } = {}) {
  const spec = JSON.stringify({ smallFiles, smallBytes, bigMiB });
  const marker = `${dir}.complete`; // beside the context, not in it
  const smallFile = (i) => path.join(dir, 'src', `d${String(i % 100).padStart(2, '0')}`, `f${String(i).padStart(5, '0')}.dat`);
  const bytes = smallFiles * smallBytes + bigMiB * 2 ** 20;
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === spec) return { dir, bytes, files: smallFiles + 1, smallFile };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const pool = crypto.randomBytes(8 << 20);
  for (let i = 0; i < smallFiles; i++) {
    if (i < 100) fs.mkdirSync(path.dirname(smallFile(i)), { recursive: true });
    const off = (i * 4099 * 7) % (pool.length - smallBytes);
    pool.writeUInt32LE(i, off); // every file distinct
    fs.writeFileSync(smallFile(i), pool.subarray(off, off + smallBytes));
  }
  const fd = fs.openSync(path.join(dir, 'big.bin'), 'w');
  for (let i = 0; i < bigMiB / 8; i++) fs.writeSync(fd, crypto.randomBytes(8 << 20));
  fs.closeSync(fd);
  fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${BASE}\nCOPY . /app\nCMD ["ls", "/app"]\n`);
  fs.writeFileSync(marker, spec);
  return { dir, bytes, files: smallFiles + 1, smallFile };
}

/** Gives small file `i` of a big context new random content of the same size (a real content change). */
export function touchSmall(ctx, i, smallBytes = 10240) {
  fs.writeFileSync(ctx.smallFile(i), crypto.randomBytes(smallBytes));
}

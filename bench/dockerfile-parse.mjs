// Benchmark: parse + expand (buildDefinition) a generated 2,000-line Dockerfile.
// Run: node bench/dockerfile-parse.mjs   (bundles src/dockerfile with esbuild into a temp dir first)
// Prints the median of 50 timed runs after 10 warm-up runs. Goal: under 20 ms.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
const out = join(dir, 'df.mjs');
execFileSync(join(root, 'node_modules/.bin/esbuild'), [
  join(root, 'src/dockerfile/index.ts'), '--bundle', '--platform=node', '--format=esm', `--outfile=${out}`, '--log-level=warning',
]);
const { buildDefinition } = await import(pathToFileURL(out).href);
rmSync(dir, { recursive: true, force: true });

/** A realistic mix: multi-stage, ARG/ENV churn, continuations, heredocs, COPY --from, mounts. */
function generate(lines) {
  const out = ['# syntax=docker/dockerfile:1', 'ARG BASE=debian:bookworm', 'ARG VERSION=1.2.3'];
  let stage = 0;
  while (out.length < lines) {
    out.push(`FROM \${BASE} AS s${stage}`, 'ARG VERSION', `ENV APP_HOME=/opt/app${stage} VERSION=\${VERSION} PATH=/opt/bin:$PATH`);
    for (let i = 0; i < 20 && out.length < lines; i++) {
      out.push(
        `ENV K${i}=v${i} K${i}B="\${K${i}}-\${VERSION%.*}"`,
        `ARG A${i}=\${K${i}:-def}`,
        `LABEL org.example.k${i}="\${A${i}}" version=$VERSION`,
        `WORKDIR $APP_HOME/\${A${i}}`,
        `RUN --mount=type=cache,target=/root/.cache/${i},id=c$VERSION \\`,
        `    apt-get update && \\`,
        `    apt-get install -y pkg${i} && \\`,
        `    rm -rf /var/lib/apt/lists/*`,
        `COPY --chown=1000:1000 src/${i}/\${K${i}} $APP_HOME/${i}/`,
        stage > 0 ? `COPY --from=s${stage - 1} /opt/app${stage - 1}/${i} /opt/prev/${i}` : `ADD --chmod=644 file${i}.tgz /opt/`,
        `EXPOSE ${8000 + i} ${9000 + i}/udp`,
        'RUN <<EOF',
        `echo "\${K${i}}" > /tmp/${i}`,
        'EOF',
      );
    }
    out.push('USER 1000:1000', 'CMD ["/opt/bin/app", "--serve"]');
    stage++;
  }
  return out.slice(0, lines).join('\n') + '\n';
}

const text = generate(2000);
const lines = text.split('\n').length - 1;
for (let i = 0; i < 10; i++) buildDefinition({ text });
const times = [];
for (let i = 0; i < 50; i++) {
  const t0 = process.hrtime.bigint();
  const d = buildDefinition({ text, buildArgs: { VERSION: '2.0.0' } });
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (d.stages.length === 0) throw new Error('no stages');
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`dockerfile parse+expand: ${lines} lines, median ${median.toFixed(2)} ms (min ${times[0].toFixed(2)}, max ${times[times.length - 1].toFixed(2)}) over ${times.length} runs; goal < 20 ms`);

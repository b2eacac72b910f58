// Bundles the CLI: dist/slipway.js (the npm bin) plus one chunk per lazily
// imported command group, so start-up compiles only what the command needs.
// SLIPWAY_DIST=/tmp/x/dist writes the bundle elsewhere (a private copy to test or
// benchmark while others rebuild dist/).
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const out = process.env.SLIPWAY_DIST ?? 'dist';

// commander requires node:child_process (which loads net and dgram, ~2 ms)
// at start-up for executable subcommands, which slipway never uses: give it
// a stand-in that loads the real module on first use.
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'slipway-lazy' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'slipway-lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { slipway: 'src/cli/main.ts' },
  outdir: out,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: "import { createRequire as __slipwayCreateRequire } from 'node:module';\nconst require = __slipwayCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
  plugins: [lazyChildProcessForCommander],
});
// The shebang goes on the entry point only.
const { readFileSync, writeFileSync } = await import('node:fs');
const entry = join(out, 'slipway.js');
writeFileSync(entry, `#!/usr/bin/env node\n${readFileSync(entry, 'utf8')}`);
chmodSync(entry, 0o755);

// Bundles the CLI into dist/: slipway.cjs, the whole CLI (src/cli/main.ts) as
// one CommonJS file, and slipway.js, the npm bin (src/cli/bin.ts), which loads
// slipway.cjs through V8's code cache (see bin.ts). Command modules stay lazy:
// esbuild wraps each dynamically imported module in an init function, and V8
// compiles a function only when it first runs.
// SLIPWAY_DIST=/tmp/x/dist writes the bundle elsewhere (a private copy to test or
// benchmark while others rebuild dist/).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const common = { bundle: true, platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'warning' };
rmSync(out, { recursive: true, force: true });
const cjs = join(out, 'slipway.cjs');
await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: cjs,
  format: 'cjs',
  plugins: [lazyChildProcessForCommander],
  // import.meta.url (createRequire in src/builtins.ts) is the bundle's own URL.
  define: { 'import.meta.url': '__slipwayBundleUrl' },
  banner: { js: "const __slipwayBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// A container's monitor process (spawned by `run`, `start`) loads only its own code.
await build({
  ...common,
  entryPoints: ['src/container/monitor-entry.ts'],
  outfile: join(out, 'monitor.cjs'),
  format: 'cjs',
  define: { 'import.meta.url': '__slipwayBundleUrl' },
  banner: { js: "const __slipwayBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
const hash = createHash('sha256').update(readFileSync(cjs)).digest('hex');
const entry = join(out, 'slipway.js');
await build({
  ...common,
  entryPoints: ['src/cli/bin.ts'],
  outfile: entry,
  format: 'esm',
  define: { SLIPWAY_BUNDLE_HASH: JSON.stringify(hash) },
});
// The shebang goes on the entry point only.
writeFileSync(entry, `#!/usr/bin/env node\n${readFileSync(entry, 'utf8')}`);
chmodSync(entry, 0o755);

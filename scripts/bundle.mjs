// Bundles the CLI: dist/slipway.js (the npm bin) plus one chunk per lazily
// imported command group, so start-up compiles only what the command needs.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { slipway: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: "import { createRequire as __slipwayCreateRequire } from 'node:module';\nconst require = __slipwayCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
// The shebang goes on the entry point only.
const { readFileSync, writeFileSync } = await import('node:fs');
writeFileSync('dist/slipway.js', `#!/usr/bin/env node\n${readFileSync('dist/slipway.js', 'utf8')}`);
chmodSync('dist/slipway.js', 0o755);

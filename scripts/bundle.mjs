// Bundles the CLI: dist/slipway.js (the npm bin) plus one chunk per lazily
// imported command group, so start-up compiles only what the command needs.
// SLIPWAY_DIST=/tmp/x/dist writes the bundle elsewhere (a private copy to test or
// benchmark while others rebuild dist/).
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const out = process.env.SLIPWAY_DIST ?? 'dist';
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
});
// The shebang goes on the entry point only.
const { readFileSync, writeFileSync } = await import('node:fs');
const entry = join(out, 'slipway.js');
writeFileSync(entry, `#!/usr/bin/env node\n${readFileSync(entry, 'utf8')}`);
chmodSync(entry, 0o755);

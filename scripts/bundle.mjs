// Bundles the CLI into one ES module file: dist/slipway.js (the npm bin).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/slipway.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __slipwayCreateRequire } from 'node:module';\nconst require = __slipwayCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
chmodSync('dist/slipway.js', 0o755);

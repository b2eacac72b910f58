// Bundles the CLI into dist/: slipway.cjs, the whole CLI (src/cli/main.ts) as
// one CommonJS file; slipway.js, the entry point (src/cli/bin.ts), which loads
// slipway.cjs through V8's code cache (see bin.ts); and slipway, the npm bin, a
// shell launcher of slipway.js (see below). Command modules stay lazy:
// esbuild wraps each dynamically imported module in an init function, and V8
// compiles a function only when it first runs.
// SLIPWAY_DIST=/tmp/x/dist writes the bundle elsewhere (a private copy to test or
// benchmark while others rebuild dist/).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.env.SLIPWAY_DIST ?? 'dist';

// Built-ins that cost start-up time to load (node:crypto alone ~4.5 ms, which
// loads node:stream; node:fs/promises ~2.5 ms; child_process loads net and
// dgram) are required as `slipway-lazy:<name>`, which the banner's require
// answers with a stand-in that loads the real module on first use. esbuild
// turns `import { x } from 'node:m'` into `m_ns.x` at each use, so a command
// that never hashes, spawns or streams never loads them. Default and
// namespace imports read all keys up front (correct, just not lazy).
const LAZY_BUILTINS = ['child_process', 'crypto', 'dgram', 'fs/promises', 'http', 'https', 'net', 'readline', 'stream', 'stream/promises', 'tls', 'worker_threads', 'zlib'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.map((m) => m.replace('/', '\\/')).join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: `slipway-lazy:${args.path.replace(/^node:/, '')}`, external: true }));
  },
};
const lazyRequire = `require = ((real) => (id) => {
  if (!id.startsWith('slipway-lazy:')) return real(id);
  let m; const load = () => (m ??= real('node:' + id.slice(13)));
  return new Proxy({}, {
    get: (_, k) => load()[k],
    has: (_, k) => k in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(load(), k); if (d) d.configurable = true; return d; },
  });
})(require);`;

// Minified (whitespace and syntax; names are kept for stack traces): the
// loader reads less (890 -> 620 kB). The output is ASCII (esbuild escapes
// the rest; checked below), so the loader can read it as latin1, a plain copy.
const common = {
  bundle: true, platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'warning',
  minifyWhitespace: true, minifySyntax: true, charset: 'ascii',
};
rmSync(out, { recursive: true, force: true });
const cjs = join(out, 'slipway.cjs');
await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: cjs,
  format: 'cjs',
  plugins: [lazyBuiltins],
  // import.meta.url (createRequire in src/builtins.ts) is the bundle's own URL.
  define: { 'import.meta.url': '__slipwayBundleUrl' },
  banner: { js: `const __slipwayBundleUrl = require('node:url').pathToFileURL(__filename).href;\n${lazyRequire}` },
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
const bundleBytes = readFileSync(cjs);
if (bundleBytes.some((b) => b > 0x7f)) throw new Error(`${cjs} has non-ASCII bytes; the loader reads it as latin1`);
const hash = createHash('sha256').update(bundleBytes).digest('hex');
const entry = join(out, 'slipway.js');
// The entry point is CommonJS too (dist/package.json says so): an ES module
// entry costs Node's ESM loader, an ES facade over each built-in it imports
// (node:fs's loads node:stream) and node:fs/promises, about 10 ms a command.
writeFileSync(join(out, 'package.json'), '{ "type": "commonjs" }\n');
await build({
  ...common,
  entryPoints: ['src/cli/bin.ts'],
  outfile: entry,
  format: 'cjs',
  define: { SLIPWAY_BUNDLE_HASH: JSON.stringify(hash), 'import.meta.url': '__slipwayBundleUrl' },
  banner: { js: "const __slipwayBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// The shebang goes on the entry point only.
writeFileSync(entry, `#!/usr/bin/env node\n${readFileSync(entry, 'utf8')}`);
chmodSync(entry, 0o755);
// The npm bin: a POSIX shell launcher for slipway.js. With NODE_EXTRA_CA_CERTS
// set, Node 20 parses that file and its whole root store before any code runs
// (Debian's bundle: ~35 ms of every command on these machines, two thirds of
// Node's start-up). The launcher hands the file on as SLIPWAY_EXTRA_CA_CERTS;
// slipway adds its certificates to the TLS contexts it makes (src/registry/tls.ts).
const launcher = join(out, 'slipway');
writeFileSync(launcher, `#!/bin/sh
# slipway's npm bin: runs the bundled CLI (slipway.js beside this file) with Node.
# NODE_EXTRA_CA_CERTS is handed on as SLIPWAY_EXTRA_CA_CERTS: Node would parse it
# (and its whole root store) at start-up; slipway reads it when it opens a TLS connection.
if [ -n "\${NODE_EXTRA_CA_CERTS:-}" ]; then
  SLIPWAY_EXTRA_CA_CERTS=\$NODE_EXTRA_CA_CERTS
  export SLIPWAY_EXTRA_CA_CERTS
  unset NODE_EXTRA_CA_CERTS
fi
self=\$0
if [ -L "\$self" ]; then self=\$(readlink -f "\$self"); fi
case \$self in */*) dir=\${self%/*} ;; *) dir=. ;; esac
exec node "\$dir/slipway.js" "\$@"
`);
chmodSync(launcher, 0o755);

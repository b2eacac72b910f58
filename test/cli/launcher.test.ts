/**
 * The npm bin `dist/slipway`, a shell launcher of dist/slipway.js: it runs
 * from a symlink (as `npm install -g` and `npm link` make it) and from its
 * own directory, and it hands NODE_EXTRA_CA_CERTS on as
 * SLIPWAY_EXTRA_CA_CERTS (Node would parse the file at start-up) without
 * losing its meaning: a build context and an import served over HTTPS by a
 * CA named only there are trusted; without it, the same URL fails with a
 * certificate error and the store is left as it was.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import { join } from 'node:path';
import { REPO, slipway } from '../helpers/cli.js';
import { cleanupAfterSuite, makePki, onCleanup, suiteDir } from '../registry/servers.js';

const LAUNCHER = join(REPO, 'dist', 'slipway');

describe('the npm bin (dist/slipway)', () => {
  cleanupAfterSuite();
  let base = '';
  let caFile = '';
  let ctxTar = Buffer.alloc(0);
  let rootfsTar = Buffer.alloc(0);

  before(async () => {
    const pki = makePki(suiteDir('slipway-launcher-pki-'));
    caFile = pki.caCert;
    const ctx = suiteDir('slipway-launcher-ctx-');
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /\n');
    writeFileSync(join(ctx, 'hello.txt'), 'hello over https\n');
    ctxTar = execFileSync('tar', ['-c', '-C', ctx, 'Dockerfile', 'hello.txt']);
    rootfsTar = execFileSync('tar', ['-c', '-C', ctx, 'hello.txt']);
    const server = https.createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, (req, res) => {
      const body = req.url === '/context.tar' ? ctxTar : req.url === '/rootfs.tar' ? rootfsTar : undefined;
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/x-tar' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    onCleanup(() => new Promise<void>((r) => server.close(() => r())));
    base = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });

  test('runs through a symlink and from its own directory', () => {
    const dir = suiteDir('slipway-launcher-bin-');
    mkdirSync(join(dir, 'bin'));
    symlinkSync(LAUNCHER, join(dir, 'bin', 'slipway'));
    assert.match(execFileSync(join(dir, 'bin', 'slipway'), ['--version'], { encoding: 'utf8' }), /^slipway version \d+\.\d+\.\d+/);
    assert.match(execFileSync('sh', ['slipway', '--version'], { cwd: join(REPO, 'dist'), encoding: 'utf8' }), /^slipway version /);
  });

  test('NODE_EXTRA_CA_CERTS reaches slipway as SLIPWAY_EXTRA_CA_CERTS, not Node', () => {
    const script = 'process.stdout.write(JSON.stringify([process.env.NODE_EXTRA_CA_CERTS ?? null, process.env.SLIPWAY_EXTRA_CA_CERTS ?? null]))';
    // The launcher runs `node` from PATH: a stand-in that prints what it was given.
    const dir = suiteDir('slipway-launcher-env-');
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'node'), `#!/bin/sh\nexec ${process.execPath} -e '${script}'\n`, { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`, NODE_EXTRA_CA_CERTS: caFile };
    assert.deepEqual(JSON.parse(execFileSync(LAUNCHER, ['--version'], { env, encoding: 'utf8' })), [null, caFile]);
    delete env.NODE_EXTRA_CA_CERTS;
    delete env.SLIPWAY_EXTRA_CA_CERTS;
    assert.deepEqual(JSON.parse(execFileSync(LAUNCHER, ['--version'], { env, encoding: 'utf8' })), [null, null]);
  });

  test('build and import of https URLs trust a CA named only by NODE_EXTRA_CA_CERTS', async () => {
    const root = join(suiteDir('slipway-launcher-store-'), 'root');
    const env = { NODE_EXTRA_CA_CERTS: caFile, SLIPWAY_CERTS_D: suiteDir('slipway-launcher-certsd-') };
    const built = await slipway(['build', '-q', '-t', 'launcher/ctx:1', `${base}/context.tar`], { root, env });
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const imported = await slipway(['import', `${base}/rootfs.tar`, 'launcher/rootfs:1'], { root, env });
    assert.equal(imported.status, 0, imported.stderr);
    const listed = await slipway(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root });
    assert.deepEqual(listed.stdout.trim().split('\n').sort(), ['launcher/ctx:1', 'launcher/rootfs:1']);
  });

  test('without the CA, the URL fails with a certificate error and nothing is stored', async () => {
    const root = join(suiteDir('slipway-launcher-store-'), 'root');
    const env = { NODE_EXTRA_CA_CERTS: '', SLIPWAY_EXTRA_CA_CERTS: '', SLIPWAY_CERTS_D: suiteDir('slipway-launcher-certsd-') };
    const built = await slipway(['build', '-q', '-t', 'launcher/ctx:1', `${base}/context.tar`], { root, env });
    assert.notEqual(built.status, 0);
    assert.match(built.stderr, new RegExp(`unable to prepare context: ${base}/context.tar: .*(certificate|self.signed)`, 'i'));
    const imported = await slipway(['import', `${base}/rootfs.tar`, 'launcher/rootfs:1'], { root, env });
    assert.notEqual(imported.status, 0);
    assert.match(imported.stderr, new RegExp(`Get "${base}/rootfs.tar": .*(certificate|self.signed)`, 'i'));
    const missing = await slipway(['build', '-q', `${base}/nothing.tar`], { root, env: { NODE_EXTRA_CA_CERTS: caFile } });
    assert.match(missing.stderr, new RegExp(`unable to prepare context: ${base}/nothing.tar: 404 Not Found`));
    const listed = await slipway(['images', '-q'], { root });
    assert.equal(listed.stdout, '');
  });
});

/**
 * Authentication against docker-registry: htpasswd Basic auth over TLS
 * with a CA made by openssl (trusted through a private certs.d), and token
 * auth with a token server written here. login verifies and saves
 * credentials in DOCKER_CONFIG/config.json, logout removes them,
 * credentials never appear in output.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../helpers/cli.js';
import {
  cleanupAfterSuite, htpasswdFile, makeClient, makePki, startRegistry, startTokenServer, suiteDir, trustCa,
  type Pki, type Registry, type TokenServer,
} from './servers.js';

const PASSWORD = 's3cret-Pa55';

describe('htpasswd Basic auth over TLS', () => {
  cleanupAfterSuite();
  let reg: Registry;
  let pki: Pki;
  before(async () => {
    const dir = suiteDir('slipway-pki-');
    pki = makePki(dir);
    reg = await startRegistry({ tls: { cert: pki.serverCert, key: pki.serverKey }, htpasswd: htpasswdFile(dir, { alice: PASSWORD }) });
  });

  test('an unknown CA is refused with a hint; the CA in certs.d is trusted', async () => {
    const c = makeClient();
    const r = await c.run(['pull', `${reg.host}/x/y:1`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /TLS certificate verification failed/);
    assert.match(r.stderr, /certs\.d\/127\.0\.0\.1:\d+\/ca\.crt/);
    trustCa(c, reg.host, pki.caCert);
    const r2 = await c.run(['pull', `${reg.host}/x/y:1`]);
    assert.equal(r2.status, 1);
    assert.match(r2.stderr, /unauthorized|authentication required/i);
  });

  test('login refuses a wrong password, saves a right one; push and pull work; logout removes it', async () => {
    const c = makeClient();
    trustCa(c, reg.host, pki.caCert);
    const bad = await c.run(['login', '-u', 'alice', '-p', 'wrong', reg.host]);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, `WARNING! Using --password via the CLI is insecure. Use --password-stdin.\nError: login attempt to https://${reg.host}/v2/ failed with status: 401 Unauthorized\n`);
    assert.equal(existsSync(join(c.env.DOCKER_CONFIG as string, 'config.json')), false);

    const ok = await c.run(['login', '-u', 'alice', '--password-stdin', reg.host], `${PASSWORD}\n`);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, 'Login Succeeded\n');
    const file = join(c.env.DOCKER_CONFIG as string, 'config.json');
    assert.match(ok.stderr, new RegExp(`WARNING! Your password will be stored unencrypted in ${file}\\.`));
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(cfg.auths[reg.host]?.auth ?? '', 'base64').toString(), `alice:${PASSWORD}`);

    await c.ok(['load', '-i', fixture('docker-save-busybox.tar')]);
    await c.ok(['tag', 'slipway-test/busybox', `${reg.host}/team/bb:1`]);
    const push = await c.run(['push', `${reg.host}/team/bb:1`]);
    assert.equal(push.status, 0, push.stderr);
    const d = makeClient({ DOCKER_CONFIG: c.env.DOCKER_CONFIG as string, SLIPWAY_CERTS_D: c.env.SLIPWAY_CERTS_D as string });
    const pull = await d.run(['pull', `${reg.host}/team/bb:1`]);
    assert.equal(pull.status, 0, pull.stderr);
    for (const text of [ok.stdout, ok.stderr, push.stdout, push.stderr, pull.stdout, pull.stderr]) assert.doesNotMatch(text, new RegExp(PASSWORD));

    assert.equal(await c.ok(['logout', reg.host]), `Removing login credentials for ${reg.host}\n`);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).auths, {});
    const denied = await d.run(['pull', `${reg.host}/team/bb:1`]);
    assert.equal(denied.status, 1);
  });

  test('a credential helper named by credHelpers supplies the credentials', async () => {
    const c = makeClient();
    trustCa(c, reg.host, pki.caCert);
    const bin = suiteDir('slipway-helper-');
    const helper = join(bin, 'docker-credential-slipwaytest');
    // The helper also records the NODE_EXTRA_CA_CERTS it was given (the npm bin hands it to slipway under another name).
    writeFileSync(helper, `#!/bin/sh\nread server\necho "$NODE_EXTRA_CA_CERTS" > ${bin}/seen-ca\nif [ "$1" = get ]; then printf '{"ServerURL":"%s","Username":"alice","Secret":"${PASSWORD}"}' "$server"; fi\n`, { mode: 0o755 });
    writeFileSync(join(c.env.DOCKER_CONFIG as string, 'config.json'), JSON.stringify({ credHelpers: { [reg.host]: 'slipwaytest' } }));
    const env = { ...c.env, PATH: `${bin}:${process.env.PATH ?? ''}`, NODE_EXTRA_CA_CERTS: pki.caCert };
    const d = makeClient(env);
    const r = await d.run(['pull', `${reg.host}/team/bb:1`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(bin, 'seen-ca'), 'utf8'), `${pki.caCert}\n`);
  });
});

describe('token auth (token server in the test)', () => {
  cleanupAfterSuite();
  let reg: Registry;
  let tokens: TokenServer;
  before(async () => {
    const dir = suiteDir('slipway-pki-');
    const pki = makePki(dir);
    tokens = await startTokenServer(pki, { bob: PASSWORD });
    reg = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: pki.tokenCert } });
  });

  test('anonymous push is denied; after login push and anonymous pull work with scoped tokens', async () => {
    const c = makeClient();
    await c.ok(['load', '-i', fixture('docker-save-busybox.tar')]);
    await c.ok(['tag', 'slipway-test/busybox', `${reg.host}/tok/bb:1`]);
    const denied = await c.run(['push', `${reg.host}/tok/bb:1`]);
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /unauthorized|denied/i);

    const bad = await c.run(['login', '-u', 'bob', '-p', 'nope', reg.host]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /login attempt to http:\/\/127\.0\.0\.1:\d+\/v2\/ failed with status: 401 Unauthorized/);
    await c.ok(['login', '-u', 'bob', '--password-stdin', reg.host], PASSWORD);
    const push = await c.run(['push', `${reg.host}/tok/bb:1`]);
    assert.equal(push.status, 0, push.stderr);
    assert.ok(tokens.requests.some((r) => r.account === 'bob' && r.authorized && r.scopes.includes('repository:tok/bb:pull,push')));

    const anon = makeClient();
    const pull = await anon.run(['pull', `${reg.host}/tok/bb:1`]);
    assert.equal(pull.status, 0, pull.stderr);
    assert.ok(tokens.requests.some((r) => r.account === '' && r.scopes.includes('repository:tok/bb:pull')));
  });

  test('an expired token is fetched again', async () => {
    tokens.lifetime = 1;
    try {
      const c = makeClient();
      await c.ok(['login', '-u', 'bob', '--password-stdin', reg.host], PASSWORD);
      await c.ok(['load', '-i', fixture('docker-save-busybox.tar')]);
      await c.ok(['tag', 'slipway-test/busybox', `${reg.host}/tok/exp:1`]);
      const before = tokens.requests.length;
      // Tokens live 1 s (refreshed 5 s early: every request asks again) and the push still succeeds.
      await c.ok(['push', `${reg.host}/tok/exp:1`]);
      assert.ok(tokens.requests.length - before >= 2, `token requests: ${tokens.requests.length - before}`);
    } finally {
      tokens.lifetime = 300;
    }
  });
});

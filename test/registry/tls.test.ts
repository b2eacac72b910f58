/**
 * TLS set-up against real sockets on 127.0.0.1: the handshake probe that
 * tells a plain-HTTP registry from a TLS one, and the per-host secure
 * context (Node's roots plus extra CAs) verifying a server certificate.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { probeTls, secureContext } from '../../src/registry/tls.js';
import { cleanupAfterSuite, makePki, suiteDir, type Pki } from './servers.js';

function listen(server: net.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** Connects with `ctx` and reports whether the certificate was accepted. */
function handshake(host: string, ctx: tls.SecureContext): Promise<'ok' | string> {
  const [h, port] = host.split(':');
  return new Promise((resolve) => {
    const s = tls.connect({ host: h, port: Number(port), secureContext: ctx, rejectUnauthorized: true });
    s.once('secureConnect', () => { s.destroy(); resolve('ok'); });
    s.once('error', (err: NodeJS.ErrnoException) => { s.destroy(); resolve(err.code ?? err.message); });
  });
}

describe('TLS probe and secure contexts', () => {
  cleanupAfterSuite();
  let pki: Pki;
  let plainHost: string;
  let tlsHost: string;
  const requests: string[] = [];
  const servers: net.Server[] = [];
  before(async () => {
    pki = makePki(suiteDir('slipway-tls-'));
    const plain = http.createServer((req, res) => { requests.push(`plain ${req.url}`); res.end('{}'); });
    const secure = https.createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, (req, res) => { requests.push(`tls ${req.url}`); res.end('{}'); });
    servers.push(plain, secure);
    plainHost = await listen(plain);
    tlsHost = await listen(secure);
  });
  after(() => { for (const s of servers) s.close(); });

  test('probeTls tells a plain-HTTP server from a TLS one, and sends no request to either', async () => {
    assert.equal(await probeTls(plainHost, 5000), 'plain');
    assert.equal(await probeTls(tlsHost, 5000), 'tls');
    assert.deepEqual(requests, []);
  });

  test('probeTls answers unknown when nothing listens or nothing answers in time', async () => {
    const closed = net.createServer();
    const host = await listen(closed);
    await new Promise((r) => closed.close(r));
    assert.equal(await probeTls(host, 5000), 'unknown');
    const silent = net.createServer(() => undefined); // accepts, never answers the ClientHello
    servers.push(silent);
    assert.equal(await probeTls(await listen(silent), 200), 'unknown');
  });

  test('the secure context trusts an extra CA besides the default roots, and only then', async () => {
    const ca = readFileSync(pki.caCert, 'utf8');
    assert.equal(await handshake(tlsHost, secureContext({ rejectUnauthorized: true, extraCa: [ca] })), 'ok');
    assert.match(await handshake(tlsHost, secureContext({ rejectUnauthorized: true })), /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
    assert.match(await handshake(tlsHost, secureContext({ rejectUnauthorized: true, extraCa: [] })), /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
  });
});

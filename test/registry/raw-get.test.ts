/**
 * The raw blob GET (src/registry/raw-get.ts) against real sockets: a
 * loopback HTTP server and an HTTPS one with its own CA. Every byte
 * arrives in order in the ring slots, also when the consumer is slower
 * than the network (reads then wait in the spare buffer for a free slot),
 * when the head and the first body bytes come in one read or the head in
 * pieces; error bodies are read as text; a body cut short fails naming
 * how much arrived.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { SlotRing } from '../../src/archive/slot-ring.js';
import { RingFill } from '../../src/registry/ring-fill.js';
import { rawGet } from '../../src/registry/raw-get.js';
import { cleanupAfterSuite, makePki, onCleanup, suiteDir } from './servers.js';

const BODY = randomBytes(5 << 20);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/blob') {
    res.writeHead(200, { 'content-length': String(BODY.length) });
    // Written in uneven pieces so that reads end anywhere.
    let off = 0;
    const next = (): void => {
      if (off >= BODY.length) return void res.end();
      const n = 1 + Math.floor(Math.random() * 300_000);
      const part = BODY.subarray(off, off + n);
      off += part.length;
      if (res.write(part)) setImmediate(next);
      else res.once('drain', next);
    };
    next();
  } else if (req.url === '/cut') {
    res.writeHead(200, { 'content-length': String(BODY.length) });
    res.write(BODY.subarray(0, 70_000), () => res.socket?.destroy());
  } else {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
  }
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  });
}

/** Reads `url` into a ring of `slots` slots of 64 KiB whose consumer waits `delayMs` per slot; returns the bytes in order. */
async function fetchInto(url: string, o: { slots: number; delayMs: number; tls?: { secureContext: tls.SecureContext; rejectUnauthorized: boolean } }): Promise<Buffer> {
  const ring = new SlotRing(64 << 10, o.slots);
  const parts: Buffer[] = [];
  const fill = new RingFill(ring, async (chunk) => {
    parts.push(Buffer.from(chunk));
    if (o.delayMs > 0) await new Promise((r) => setTimeout(r, o.delayMs));
  });
  const answer = await rawGet({ url: new URL(url), headers: {}, timeoutMs: 5000, ...(o.tls ? { tls: o.tls } : {}) });
  assert.equal(answer.status, 200);
  assert.equal(answer.contentLength, BODY.length);
  await answer.body(fill);
  await fill.finish();
  return Buffer.concat(parts);
}

describe('raw blob GET into ring slots', () => {
  cleanupAfterSuite();
  let plain = '';
  let secure = '';
  let ca = '';

  before(async () => {
    const pki = makePki(suiteDir('slipway-rawget-pki-'));
    ca = readFileSync(pki.caCert, 'utf8');
    plain = `http://127.0.0.1:${await listen(http.createServer(handler))}`;
    secure = `https://127.0.0.1:${await listen(https.createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, handler))}`;
  });

  test('every byte in order, with a fast and with a slow consumer (reads waiting for a free slot)', async () => {
    assert.equal(sha(await fetchInto(`${plain}/blob`, { slots: 64, delayMs: 0 })), sha(BODY));
    assert.equal(sha(await fetchInto(`${plain}/blob`, { slots: 2, delayMs: 1 })), sha(BODY));
  });

  test('over TLS, verified against the CA', async () => {
    const ctx = { secureContext: tls.createSecureContext({ ca }), rejectUnauthorized: true };
    assert.equal(sha(await fetchInto(`${secure}/blob`, { slots: 3, delayMs: 1, tls: ctx })), sha(BODY));
    const untrusted = { secureContext: tls.createSecureContext({ ca: [] }), rejectUnauthorized: true };
    await assert.rejects(rawGet({ url: new URL(`${secure}/blob`), headers: {}, timeoutMs: 5000, tls: untrusted }), /certificate/);
  });

  test('a head and body in pieces, from a hand-written server', async () => {
    const body = Buffer.from('0123456789abcdef'.repeat(100));
    const server = net.createServer((s) => {
      s.once('data', () => {
        const head = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nX-Long: ${'y'.repeat(3000)}\r\n\r\n`;
        // The head in two writes, the second carrying the first body bytes.
        s.write(head.slice(0, 10));
        setTimeout(() => s.write(Buffer.concat([Buffer.from(head.slice(10)), body.subarray(0, 5)])), 20);
        setTimeout(() => s.end(body.subarray(5)), 40);
      });
    });
    const port = await listen(server);
    const ring = new SlotRing(1024, 2);
    const parts: Buffer[] = [];
    const fill = new RingFill(ring, (c) => { parts.push(Buffer.from(c)); });
    const answer = await rawGet({ url: new URL(`http://127.0.0.1:${port}/x`), headers: { range: 'bytes=0-' }, timeoutMs: 5000 });
    assert.equal(answer.headers['x-long']?.length, 3000);
    await answer.body(fill);
    await fill.finish();
    assert.deepEqual(Buffer.concat(parts), body);
  });

  test('an error answer is read as text; a body cut short fails naming what arrived', async () => {
    const missing = await rawGet({ url: new URL(`${plain}/nothing`), headers: {}, timeoutMs: 5000 });
    assert.equal(missing.status, 404);
    assert.match((await missing.text()).toString(), /BLOB_UNKNOWN/);
    const ring = new SlotRing(64 << 10, 4);
    const fill = new RingFill(ring, () => undefined);
    const cut = await rawGet({ url: new URL(`${plain}/cut`), headers: {}, timeoutMs: 5000 });
    await assert.rejects(cut.body(fill), new RegExp(`the connection closed after \\d+ of ${BODY.length} bytes`));
    await fill.close();
  });

  test('a refused connection rejects', async () => {
    await assert.rejects(rawGet({ url: new URL('http://127.0.0.1:1/x'), headers: {}, timeoutMs: 5000 }), /ECONNREFUSED/);
  });
});

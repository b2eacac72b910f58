/**
 * `ADD <url>` as a user sees it, against a small HTTP and HTTPS server on
 * 127.0.0.1 (its CA, made by openssl, trusted through a private certs.d):
 * the file lands under the URL's last path component, not extracted, mode
 * 0600 (or --chmod), root's (or --chown), its mtime the Last-Modified
 * header; --checksum pins the bytes (a mismatch fails the build and tags
 * nothing) and lets a rebuild skip the server; without it, an ETag makes
 * the rebuild a 304 and a changed file rebuilds the step.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { join } from 'node:path';
import { cleanupAfterSuite, makeClient, makePki, onCleanup, suiteDir, trustCa, type Client } from '../registry/servers.js';
import { readImage, tarListing } from './helpers.js';

/** One file the server serves. */
interface Served {
  body: Buffer;
  etag?: string;
  lastModified?: string;
  /** Answer with a redirect to this path instead. */
  redirect?: string;
}

/** What the server saw. */
interface Hit {
  path: string;
  ifNoneMatch: string | undefined;
  status: number;
}

const files = new Map<string, Served>();
const hits: Hit[] = [];

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0] as string;
  const f = files.get(path);
  const inm = req.headers['if-none-match'];
  const answer = (status: number, headers: Record<string, string> = {}, body?: Buffer): void => {
    hits.push({ path, ifNoneMatch: inm, status });
    res.writeHead(status, headers);
    res.end(body);
  };
  if (!f) return answer(404, { 'content-type': 'text/plain' }, Buffer.from('not found\n'));
  if (f.redirect !== undefined) return answer(302, { location: f.redirect });
  const headers: Record<string, string> = { 'content-length': String(f.body.length), 'content-type': 'application/octet-stream' };
  if (f.etag !== undefined) headers.etag = f.etag;
  if (f.lastModified !== undefined) headers['last-modified'] = f.lastModified;
  if (f.etag !== undefined && inm === f.etag) return answer(304, { etag: f.etag });
  answer(200, headers, f.body);
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  });
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const HELLO = Buffer.from('hello from the server\n');
const LAST_MODIFIED = 'Tue, 03 Jun 2025 10:20:30 GMT';
const LAST_MODIFIED_TAR = '2025-06-03 10:20:30';

describe('slipway build: ADD <url>', () => {
  cleanupAfterSuite();
  let client: Client;
  let httpUrl = '';
  let httpsUrl = '';
  let ctx = '';
  let n = 0;
  // A gzip'd tar: ADD of a URL must not extract it.
  let tgz = Buffer.alloc(0);

  before(async () => {
    const pki = makePki(suiteDir('slipway-addurl-pki-'));
    const httpPort = await listen(http.createServer(handler));
    const httpsPort = await listen(https.createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, handler));
    httpUrl = `http://127.0.0.1:${httpPort}`;
    httpsUrl = `https://127.0.0.1:${httpsPort}`;
    client = makeClient();
    trustCa(client, `127.0.0.1:${httpsPort}`, pki.caCert);
    ctx = suiteDir('slipway-addurl-ctx-');
    writeFileSync(join(ctx, 'local.txt'), 'local\n');
    tgz = execFileSync('tar', ['-cz', '-C', ctx, 'local.txt']);
    files.set('/files/hello.txt', { body: HELLO, lastModified: LAST_MODIFIED });
    files.set('/files/app.tar.gz', { body: tgz, lastModified: LAST_MODIFIED });
    files.set('/moved', { body: Buffer.alloc(0), redirect: '/files/hello.txt' });
  });

  /** Builds `dockerfile` as `tag` (plain progress); returns the result and the image's layer listings. */
  async function build(tag: string, dockerfile: string, extra: string[] = []) {
    const df = join(ctx, `Dockerfile.${++n}`);
    writeFileSync(df, dockerfile);
    return client.run(['build', '--progress', 'plain', '-t', tag, '-f', df, ...extra, ctx]);
  }

  function layers(tag: string): string[][] {
    return readImage(client.root, `docker.io/library/${tag}`).layerFiles.map((f) => tarListing(f).map((l) => l.replace(/\s+/g, ' ')));
  }

  const idOf = async (tag: string): Promise<string> => (await client.ok(['image', 'inspect', '-f', '{{.Id}}', tag])).trim();
  const images = (): Promise<string> => client.ok(['images', '-a', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);

  test('a URL to a file path: the name is the dest, mode 0600, root, mtime from Last-Modified; a tar is not extracted', async () => {
    const r = await build('url-file:1', `FROM scratch\nADD ${httpsUrl}/files/hello.txt /etc/greeting\nADD ${httpsUrl}/files/app.tar.gz /opt/\n`);
    assert.equal(r.status, 0, r.stderr);
    const [etc, opt] = layers('url-file:1');
    assert.match(etc?.[0] ?? '', /^drwxr-xr-x 0\/0 0 \S+ \S+ etc\/$/);
    assert.deepEqual(etc?.slice(1), [`-rw------- 0/0 ${HELLO.length} ${LAST_MODIFIED_TAR} etc/greeting`]);
    assert.match(opt?.[0] ?? '', /^drwxr-xr-x 0\/0 0 \S+ \S+ opt\/$/);
    assert.deepEqual(opt?.slice(1), [`-rw------- 0/0 ${tgz.length} ${LAST_MODIFIED_TAR} opt/app.tar.gz`]);
    // The URL has its own vertex, as BuildKit shows its HTTP source, before the step.
    assert.match(r.stderr, new RegExp(`#\\d+ ${escape(httpsUrl)}/files/hello.txt\\n#\\d+ DONE`));
    assert.match(r.stderr, new RegExp(`#\\d+ \\[1/2\\] ADD ${escape(httpsUrl)}/files/hello.txt /etc/greeting\\n`));
    const history = readImage(client.root, 'docker.io/library/url-file:1').config.history.map((h) => h.created_by);
    assert.deepEqual(history, [`ADD ${httpsUrl}/files/hello.txt /etc/greeting # buildkit`, `ADD ${httpsUrl}/files/app.tar.gz /opt/ # buildkit`]);
  });

  test('a URL to an existing directory, over plain HTTP, through a redirect: dir/name', async () => {
    const r = await build('url-dir:1', `FROM scratch\nADD local.txt /srv/\nADD ${httpUrl}/moved /srv\n`);
    assert.equal(r.status, 0, r.stderr);
    // The name comes from the URL as written, not from where it redirected.
    assert.equal(layers('url-dir:1')[1]?.at(-1), `-rw------- 0/0 ${HELLO.length} ${LAST_MODIFIED_TAR} srv/moved`);
  });

  test('a URL file name with [ and * is a plain name, not a wildcard', async () => {
    files.set('/files/v[1]*.txt', { body: HELLO, lastModified: LAST_MODIFIED });
    const r = await build('url-wild:1', `FROM scratch\nADD ${httpsUrl}/files/v[1]*.txt /srv/\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(layers('url-wild:1')[0]?.at(-1), `-rw------- 0/0 ${HELLO.length} ${LAST_MODIFIED_TAR} srv/v[1]*.txt`);
  });

  test('--chmod and --chown apply to the downloaded file', async () => {
    const r = await build('url-own:1', `FROM scratch\nADD --chown=1000:2000 --chmod=755 ${httpsUrl}/files/hello.txt /bin/hello\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(layers('url-own:1')[0]?.at(-1), `-rwxr-xr-x 1000/2000 ${HELLO.length} ${LAST_MODIFIED_TAR} bin/hello`);
    const history = readImage(client.root, 'docker.io/library/url-own:1').config.history.map((h) => h.created_by);
    assert.deepEqual(history, [`ADD --chown=1000:2000 --chmod=755 ${httpsUrl}/files/hello.txt /bin/hello # buildkit`]);
  });

  test('--checksum: a match builds; the rebuild is CACHED with the same image ID and asks the server nothing', async () => {
    const df = `FROM scratch\nADD --checksum=${sha(HELLO)} ${httpsUrl}/files/hello.txt /hello\n`;
    const r = await build('url-sum:1', df);
    assert.equal(r.status, 0, r.stderr);
    const before = hits.length;
    const again = await build('url-sum:2', df);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(hits.length, before, 'no request on a cached rebuild with --checksum');
    assert.match(again.stderr, new RegExp(`#(\\d+) ${escape(httpsUrl)}/files/hello.txt\\n#\\1 CACHED`));
    assert.match(again.stderr, /#(\d+) \[1\/1\] ADD --checksum=\S+ \S+ \/hello\n#\1 CACHED/);
    assert.equal(await idOf('url-sum:2'), await idOf('url-sum:1'));
  });

  test('--checksum mismatch: the build fails naming both digests; no tag, the store unchanged', async () => {
    const wrong = sha(Buffer.from('something else'));
    const imagesBefore = await images();
    const index = readFileSync(join(client.root, 'index.json'), 'utf8');
    const r = await build('url-bad:1', `FROM scratch\nADD --checksum=${wrong} ${httpsUrl}/files/hello.txt /hello\n`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`digest mismatch for ${escape(httpsUrl)}/files/hello.txt: ${sha(HELLO)} \\(expected: ${wrong}\\)\\n$`));
    assert.equal(await images(), imagesBefore);
    assert.equal(readFileSync(join(client.root, 'index.json'), 'utf8'), index);
  });

  test('a 404 fails the build naming the URL and the status', async () => {
    const r = await build('url-404:1', `FROM scratch\nADD ${httpsUrl}/files/missing.txt /x\n`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`Dockerfile\\.\\d+:2: ADD .*: failed to download ${escape(httpsUrl)}/files/missing.txt: invalid response status 404\\n$`));
    assert.doesNotMatch(await images(), /url-404/);
  });

  test('TLS is verified: a server whose CA is not trusted fails the build', async () => {
    const untrusted = makeClient();
    const df = join(ctx, 'Dockerfile.tls');
    writeFileSync(df, `FROM scratch\nADD ${httpsUrl}/files/hello.txt /x\n`);
    const r = await untrusted.run(['build', '--progress', 'plain', '-t', 'tls:1', '-f', df, ctx]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`GET ${escape(httpsUrl)}/files/hello.txt: .*(certificate|self.signed|issuer)`, 'i'));
  });

  test('without --checksum: an unchanged file (ETag, 304) is CACHED; a changed one rebuilds with a new image ID', async () => {
    files.set('/files/etag.txt', { body: Buffer.from('version 1\n'), etag: '"v1"', lastModified: LAST_MODIFIED });
    const df = `FROM scratch\nADD ${httpsUrl}/files/etag.txt /v\n`;
    assert.equal((await build('url-etag:1', df)).status, 0);
    const first = await idOf('url-etag:1');
    const from = hits.length;
    const same = await build('url-etag:2', df);
    assert.equal(same.status, 0, same.stderr);
    assert.deepEqual(hits.slice(from).map((h) => [h.ifNoneMatch, h.status]), [['"v1"', 304]]);
    assert.match(same.stderr, /#(\d+) \[1\/1\] ADD \S+ \/v\n#\1 CACHED/);
    assert.equal(await idOf('url-etag:2'), first);

    files.set('/files/etag.txt', { body: Buffer.from('version 2, longer\n'), etag: '"v2"', lastModified: LAST_MODIFIED });
    const changed = await build('url-etag:3', df);
    assert.equal(changed.status, 0, changed.stderr);
    assert.doesNotMatch(changed.stderr, /CACHED/);
    assert.notEqual(await idOf('url-etag:3'), first);
    assert.match(layers('url-etag:3')[0]?.at(-1) ?? '', / 18 .* v$/);

    // builder prune -a forgets the recorded ETag: the next build asks without If-None-Match
    await client.ok(['builder', 'prune', '-a', '-f']);
    assert.equal(existsSync(join(client.root, 'buildcache', 'http')), false);
    const afterPrune = hits.length;
    assert.equal((await build('url-etag:4', df)).status, 0);
    assert.deepEqual(hits.slice(afterPrune).map((h) => [h.ifNoneMatch, h.status]), [[undefined, 200]]);
  });

  test('without an ETag the file is downloaded again and compared by content', async () => {
    files.set('/files/plain.txt', { body: Buffer.from('one\n') });
    const df = `FROM scratch\nADD ${httpUrl}/files/plain.txt /p\n`;
    assert.equal((await build('url-plain:1', df)).status, 0);
    const again = await build('url-plain:2', df);
    assert.match(again.stderr, /#(\d+) \[1\/1\] ADD \S+ \/p\n#\1 CACHED/);
    assert.equal(await idOf('url-plain:2'), await idOf('url-plain:1'));
    // No Last-Modified: the Unix epoch, as BuildKit's HTTP source sets it.
    assert.equal(layers('url-plain:1')[0]?.at(-1), '-rw------- 0/0 4 1970-01-01 00:00:00 p');
    files.set('/files/plain.txt', { body: Buffer.from('two\n') });
    const changed = await build('url-plain:3', df);
    assert.doesNotMatch(changed.stderr, /CACHED/);
    assert.notEqual(await idOf('url-plain:3'), await idOf('url-plain:1'));
  });

  const errors: [string, string, RegExp][] = [
    ['--checksum with a local source', `ADD --checksum=${sha(HELLO)} local.txt /x`, /:2: checksum requires HTTP\(S\) or Git sources\n$/],
    ['--checksum with two sources', `ADD --checksum=${sha(HELLO)} https://127.0.0.1:1/a https://127.0.0.1:1/b /x/`, /:2: checksum can't be specified for multiple sources\n$/],
    ['COPY of a URL', 'COPY https://127.0.0.1:1/a /x', /source can't be a URL for COPY\n$/],
  ];
  for (const [name, line, message] of errors) {
    test(`${name} is an error before anything is fetched`, async () => {
      const from = hits.length;
      const r = await build('url-err:1', `FROM scratch\n${line}\n`);
      assert.equal(r.status, 1);
      assert.match(r.stderr, message);
      assert.equal(hits.length, from);
    });
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

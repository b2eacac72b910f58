/**
 * The port relay: runs inside a container's network namespace (started by
 * the monitor with `nsenter --net=/proc/PID/ns/net`), listens on a unix
 * socket path on the host filesystem, and for each connection reads a
 * header line (`T80` for TCP, `U53` for UDP) and connects to that port on
 * the namespace's loopback. Exits when its parent (the monitor) is gone.
 */
import { createSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { unlinkSync } from 'node:fs';
import { deframer, frame } from './ports.js';

function serve(client: Socket, head: string, rest: Buffer): void {
  const port = Number(head.slice(1));
  if (head[0] === 'U') {
    const udp = createSocket('udp4');
    udp.on('error', () => client.destroy());
    udp.connect(port, '127.0.0.1', () => {
      const feed = deframer((d) => udp.send(d));
      feed(rest);
      client.on('data', feed);
      // The header reader paused the client; a 'data' listener alone does not
      // resume a paused stream, so datagrams after the first were never read.
      client.resume();
    });
    udp.on('message', (m) => client.write(frame(m)));
    client.on('close', () => udp.close());
    client.on('error', () => undefined);
    return;
  }
  const up = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  up.on('error', () => client.destroy());
  client.on('error', () => up.destroy());
  up.on('connect', () => {
    if (rest.length > 0) up.write(rest);
    client.pipe(up).pipe(client);
    client.resume();
  });
}

/** Runs the relay on `path` until the parent process exits; calls `ready` once listening. */
export function runRelay(path: string, ready: () => void): Promise<void> {
  return new Promise((resolve) => {
    try {
      unlinkSync(path);
    } catch {
      // not there
    }
    const server = createServer({ allowHalfOpen: true }, (client) => {
      let buf = Buffer.alloc(0);
      const onData = (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        const nl = buf.indexOf(10);
        if (nl < 0) return;
        client.off('data', onData);
        client.pause();
        serve(client, buf.subarray(0, nl).toString(), buf.subarray(nl + 1));
      };
      client.on('data', onData);
      client.on('error', () => undefined);
    });
    const parent = process.ppid;
    server.listen(path, ready);
    const timer = setInterval(() => {
      if (process.ppid !== parent) {
        clearInterval(timer);
        server.close();
        resolve();
      }
    }, 500);
  });
}

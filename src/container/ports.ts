/**
 * Published ports. `-p [IP:][HOST:]CTR[/tcp|udp]` is parsed as Docker
 * does; the monitor listens on the host address and forwards each
 * connection into the container's private network namespace through a
 * relay process that lives in that namespace (see relay.ts): host TCP
 * socket → unix socket `relay.sock` in the container's directory (unix
 * sockets on a path are reachable from every network namespace) → the
 * relay connects to 127.0.0.1:CTR inside the namespace. UDP datagrams are
 * framed over one relay stream per client address.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { SlipwayError } from '../errors.js';
import type { PortBinding } from './records.js';

function parsePort(s: string, what: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw new SlipwayError('INVALID_ARGUMENT', `invalid ${what}: ${s}`, { exitCode: 125 });
  return n;
}

/** Parses one `-p` value. Host address default 127.0.0.1 (loopback: see ARCHITECTURE.md); host port 0 picks a free one. */
export function parsePublish(spec: string): PortBinding {
  const [body = '', protoRaw = 'tcp'] = spec.split('/');
  const proto = protoRaw.toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp') throw new SlipwayError('INVALID_ARGUMENT', `invalid proto: ${protoRaw}`, { exitCode: 125 });
  let ip = '';
  let rest = body;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(body);
  if (v6) {
    ip = v6[1] as string;
    rest = v6[2] as string;
  }
  const parts = rest.split(':');
  if (!v6 && parts.length === 3) ip = parts.shift() as string;
  if (parts.length > 2 || parts.length === 0) throw new SlipwayError('INVALID_ARGUMENT', `invalid port format for --expose: ${spec}`, { exitCode: 125 });
  const ctr = parsePort(parts[parts.length - 1] as string, 'containerPort');
  const host = parts.length === 2 && parts[0] !== '' ? parsePort(parts[0] as string, 'hostPort') : 0;
  return { hostIp: ip || '127.0.0.1', hostPort: host, containerPort: ctr, proto };
}

/** `127.0.0.1:8080->80/tcp`, as `ps` shows a binding. */
export function formatBinding(b: PortBinding): string {
  const ip = b.hostIp.includes(':') ? `[${b.hostIp}]` : b.hostIp;
  return `${ip}:${b.hostPort}->${b.containerPort}/${b.proto}`;
}

/** Open listeners of a container's published ports. */
export interface PortForwarder {
  /** The bindings with the host ports actually bound (a requested 0 replaced). */
  bindings: PortBinding[];
  /** Starts forwarding through the relay socket at `relayPath`. */
  activate(relayPath: string): void;
  close(): Promise<void>;
}

function openRelay(relayPath: string, header: string): Socket {
  const s = connect({ path: relayPath });
  s.write(header);
  return s;
}

function tcpListener(b: PortBinding, relay: () => string | undefined): Promise<Server> {
  const server = createServer({ pauseOnConnect: true }, (client) => {
    const path = relay();
    if (!path) {
      client.destroy();
      return;
    }
    const up = openRelay(path, `T${b.containerPort}\n`);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    up.on('close', () => client.destroy());
    client.pipe(up).pipe(client);
    client.resume();
  });
  return listen(server, b);
}

function listen(server: Server, b: PortBinding): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const what = err.code === 'EADDRINUSE' ? 'port is already allocated' : err.message;
      reject(new SlipwayError('CONFLICT', `driver failed programming external connectivity: Bind for ${b.hostIp}:${b.hostPort} failed: ${what}`, { exitCode: 125 }));
    });
    server.listen({ host: b.hostIp, port: b.hostPort }, () => resolve(server));
  });
}

/** Frames a datagram for the relay stream: 2-byte big-endian length, then the bytes. */
export function frame(data: Buffer): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(data.length);
  return Buffer.concat([head, data]);
}

/** Splits framed datagrams out of a stream; returns a feed function. */
export function deframer(onDatagram: (d: Buffer) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const n = buf.readUInt16BE(0);
      onDatagram(buf.subarray(2, 2 + n));
      buf = buf.subarray(2 + n);
    }
  };
}

function udpListener(b: PortBinding, relay: () => string | undefined): Promise<UdpSocket> {
  const sock = createSocket(b.hostIp.includes(':') ? 'udp6' : 'udp4');
  const sessions = new Map<string, Socket>();
  sock.on('message', (msg, rinfo) => {
    const path = relay();
    if (!path) return;
    const key = `${rinfo.address}:${rinfo.port}`;
    let s = sessions.get(key);
    if (!s) {
      s = openRelay(path, `U${b.containerPort}\n`);
      sessions.set(key, s);
      s.on('data', deframer((d) => sock.send(d, rinfo.port, rinfo.address)));
      s.on('error', () => undefined);
      s.on('close', () => sessions.delete(key));
      s.setTimeout(180_000, () => s?.destroy());
    }
    s.write(frame(msg));
  });
  return new Promise((resolve, reject) => {
    sock.once('error', (err) => reject(new SlipwayError('CONFLICT', `driver failed programming external connectivity: Bind for ${b.hostIp}:${b.hostPort}/udp failed: ${err.message}`, { exitCode: 125 })));
    sock.bind({ address: b.hostIp, port: b.hostPort }, () => resolve(sock));
  });
}

/** Binds every published port on the host (before the container starts, so a taken port fails fast). */
export async function listenPorts(bindings: readonly PortBinding[]): Promise<PortForwarder> {
  let relayPath: string | undefined;
  const relay = () => relayPath;
  const closers: (() => Promise<void>)[] = [];
  const out: PortBinding[] = [];
  const closeAll = () => Promise.all(closers.map((c) => c())).then(() => undefined);
  try {
    for (const b of bindings) {
      if (b.proto === 'tcp') {
        const s = await tcpListener(b, relay);
        closers.push(() => new Promise((r) => s.close(() => r())));
        const addr = s.address();
        out.push({ ...b, hostPort: typeof addr === 'object' && addr ? addr.port : b.hostPort });
      } else {
        const s = await udpListener(b, relay);
        closers.push(() => new Promise((r) => s.close(() => r())));
        out.push({ ...b, hostPort: s.address().port });
      }
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { bindings: out, activate: (p) => { relayPath = p; }, close: closeAll };
}

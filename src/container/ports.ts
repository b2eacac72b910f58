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
import { connect, createServer, isIPv4, isIPv6, type Server, type Socket } from 'node:net';
import { SlipwayError } from '../errors.js';
import type { PortBinding } from './records.js';

/** A `-p` value that does not parse: Docker's client-side messages (the CLI prints them without "Error:"). */
function invalid(msg: string): SlipwayError {
  return new SlipwayError('INVALID_ARGUMENT', msg, { exitCode: 125 });
}

/** Go's strconv.ParseUint(s, 10, 16) for a port: undefined when it does not parse. */
function portNumber(s: string): number | undefined {
  return /^\d+$/.test(s) && Number(s) <= 65535 ? Number(s) : undefined;
}

/** nat.ParsePortRange: `80` or `8000-8002` (start <= end). */
function portRange(s: string): [number, number] | undefined {
  const [a = '', b, ...more] = s.split('-');
  const start = portNumber(a);
  const end = b === undefined ? start : portNumber(b);
  if (start === undefined || end === undefined || more.length > 0 || end < start) return undefined;
  return [start, end];
}

/** nat's splitParts: the last part is the container port, the one before the host port, the rest the address. */
function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  const ctr = parts[n - 1] ?? '';
  if (n === 1) return ['', '', ctr];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2] ?? '', ctr];
}

function isIp(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/**
 * Parses one `-p` value as Docker's nat.ParsePortSpec does:
 * `[IP:][HOST[-END]:]CTR[-END][/tcp|udp]`, one binding per container port.
 * A host range with one container port means "any free port in the range".
 * Host address default 127.0.0.1 (loopback: see ARCHITECTURE.md); host port
 * 0 or none picks a free one.
 */
export function parsePublish(spec: string): PortBinding[] {
  const [rawIp, hostPart, ctrProto] = splitParts(spec);
  const slash = ctrProto.indexOf('/');
  const ctrPart = slash < 0 ? ctrProto : ctrProto.slice(0, slash);
  const protoRaw = slash < 0 || ctrProto.slice(slash + 1) === '' ? 'tcp' : (ctrProto.slice(slash + 1).split('/')[0] ?? '');
  let ip = rawIp;
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) throw invalid(`invalid IP address ${ip}: address ${ip}:: missing ']' in address`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && !isIp(ip)) throw invalid(`invalid IP address: ${ip}`);
  if (ctrPart === '') throw invalid(`no port specified: ${spec}<empty>`);
  const ctr = portRange(ctrPart);
  if (!ctr) throw invalid(`invalid containerPort: ${ctrPart}`);
  const host = hostPart === '' ? undefined : portRange(hostPart);
  if (hostPart !== '' && !host) throw invalid(`invalid hostPort: ${hostPart}`);
  if (host && ctr[1] - ctr[0] !== host[1] - host[0] && ctr[1] !== ctr[0]) {
    throw invalid(`invalid ranges specified for container and host Ports: ${ctrPart} and ${hostPart}`);
  }
  const proto = protoRaw.toLowerCase();
  if (proto === 'sctp') throw invalid('invalid proto: sctp (slipway publishes tcp and udp ports only)');
  if (proto !== 'tcp' && proto !== 'udp') throw invalid(`invalid proto: ${protoRaw}`);
  const out: PortBinding[] = [];
  for (let i = 0; i <= ctr[1] - ctr[0]; i++) {
    const b: PortBinding = { hostIp: ip || '127.0.0.1', hostPort: host ? host[0] + i : 0, containerPort: ctr[0] + i, proto };
    if (host && ctr[0] === ctr[1] && host[0] !== host[1]) b.hostPortEnd = host[1];
    out.push(b);
  }
  return out;
}

/** `127.0.0.1:8080->80/tcp`, as `ps` shows a binding. */
export function formatBinding(b: PortBinding): string {
  const ip = b.hostIp.includes(':') ? `[${b.hostIp}]` : b.hostIp;
  return `${ip}:${b.hostPort}->${b.containerPort}/${b.proto}`;
}

/** One port of a container as the daemon lists it: published (ip and public port) or only exposed. */
export interface ListedPort {
  ip: string;
  publicPort: number;
  privatePort: number;
  type: string;
}

function comparePorts(a: ListedPort, b: ListedPort): number {
  if (a.privatePort !== b.privatePort) return a.privatePort - b.privatePort;
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  if (a.publicPort !== b.publicPort) return a.publicPort - b.publicPort;
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

function formGroup(ip: string, type: string, first: number, last: number): string {
  const range = first === last ? `${first}` : `${first}-${last}`;
  return `${ip ? `${ip}:${range}->${range}` : range}/${type}`;
}

/**
 * docker/cli's DisplayablePorts (the PORTS column): sorted by private port;
 * consecutive ports published on the same port number (or only exposed) are
 * grouped into ranges (`80-82/tcp`), other published ports listed after
 * them as `IP:PUBLIC->PRIVATE/PROTO`.
 */
export function displayablePorts(ports: readonly ListedPort[]): string {
  const groups = new Map<string, { ip: string; type: string; first: number; last: number }>();
  const result: string[] = [];
  const mappings: string[] = [];
  for (const p of [...ports].sort(comparePorts)) {
    if (p.ip !== '' && p.publicPort !== p.privatePort) {
      const ip = p.ip.includes(':') ? `[${p.ip}]` : p.ip;
      mappings.push(`${ip}:${p.publicPort}->${p.privatePort}/${p.type}`);
      continue;
    }
    const key = p.ip ? `${p.ip}/${p.type}` : p.type;
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { ip: p.ip, type: p.type, first: p.privatePort, last: p.privatePort });
    } else if (p.privatePort === g.last + 1) {
      g.last = p.privatePort;
    } else {
      result.push(formGroup(g.ip, g.type, g.first, g.last));
      groups.set(key, { ip: p.ip, type: p.type, first: p.privatePort, last: p.privatePort });
    }
  }
  for (const g of groups.values()) result.push(formGroup(g.ip, g.type, g.first, g.last));
  return [...result, ...mappings].join(', ');
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
  const s = connect({ path: relayPath, allowHalfOpen: true });
  s.write(header);
  return s;
}

function tcpListener(b: PortBinding, relay: () => string | undefined): Promise<Server> {
  // Half-open allowed end to end: a client that shuts down its sending side (HTTP/1.0 tools, nc -N) still gets the answer.
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    const path = relay();
    if (!path) {
      client.destroy();
      return;
    }
    const up = openRelay(path, `T${b.containerPort}\n`);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    up.on('close', () => {
      if (!client.writableEnded) client.destroy();
    });
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

async function bindOne(b: PortBinding, relay: () => string | undefined): Promise<{ bound: PortBinding; close: () => Promise<void> }> {
  if (b.proto === 'tcp') {
    const s = await tcpListener(b, relay);
    const addr = s.address();
    return { bound: { hostIp: b.hostIp, hostPort: typeof addr === 'object' && addr ? addr.port : b.hostPort, containerPort: b.containerPort, proto: b.proto }, close: () => new Promise((r) => s.close(() => r())) };
  }
  const s = await udpListener(b, relay);
  return { bound: { hostIp: b.hostIp, hostPort: s.address().port, containerPort: b.containerPort, proto: b.proto }, close: () => new Promise((r) => s.close(() => r())) };
}

/** Binds a port, or the first free one of a host range (`-p 8000-8010:80`). */
async function bindRange(b: PortBinding, relay: () => string | undefined): Promise<{ bound: PortBinding; close: () => Promise<void> }> {
  const end = b.hostPortEnd ?? b.hostPort;
  for (let port = b.hostPort; ; port++) {
    try {
      return await bindOne({ ...b, hostPort: port }, relay);
    } catch (err) {
      if (port >= end) {
        if (end === b.hostPort) throw err;
        throw new SlipwayError('CONFLICT', `driver failed programming external connectivity: Bind for ${b.hostIp}:${b.hostPort}-${end} failed: port is already allocated`, { cause: err, exitCode: 125 });
      }
    }
  }
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
      const { bound, close } = await bindRange(b, relay);
      closers.push(close);
      out.push(bound);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { bindings: out, activate: (p) => { relayPath = p; }, close: closeAll };
}

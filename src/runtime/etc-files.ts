/**
 * The /etc files a sandbox gets from the host side (bind-mounted, never part
 * of a layer): /etc/hosts, /etc/resolv.conf (the host's, as Docker copies it)
 * and /etc/hostname.
 */
import { readFile } from 'node:fs/promises';
import type { NetworkMode } from './spec.js';

/** /etc/hosts of a build step (BuildKit's). */
export function builderHosts(hostname: string): string {
  return `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
}

/** /etc/hosts of a container (Docker's, with the container's hostname on loopback for network none/host). */
export function containerHosts(hostname: string): string {
  return '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n'
    + `ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n127.0.1.1\t${hostname}\n`;
}

const LOCAL_NS = /^\s*nameserver\s+(127\.|::1\b)/;

/**
 * The host's resolv.conf as a container gets it: as it is for the host
 * network; for a private namespace without localhost name servers (which
 * are unreachable there), Google's as Docker falls back to when none is left.
 */
export async function resolvConf(network: NetworkMode, path = '/etc/resolv.conf'): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  if (network === 'host') return text;
  const lines = text.split('\n').filter((l) => !LOCAL_NS.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return `${lines.filter((l, i) => l !== '' || i < lines.length - 1).join('\n')}\n`;
}

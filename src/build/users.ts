/**
 * Resolving `--chown` and USER values to numeric ids the way BuildKit does:
 * numbers are taken as they are (a lone uid is also the gid), names are
 * looked up in the image's /etc/passwd and /etc/group.
 */
import { SlipwayError } from '../errors.js';
import type { LayerFs } from './fs-view.js';

/** Numeric owner of created files. */
export interface Owner {
  uid: number;
  gid: number;
}

function parseTable(text: string | undefined): string[][] {
  return (text ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

async function readTable(fs: LayerFs, path: string): Promise<string[][]> {
  return parseTable((await fs.readFile(path))?.toString('utf8'));
}

const isNumber = (s: string) => /^\d+$/.test(s);

/** Resolves `user[:group]` (names or numbers) against the image's files. */
export async function resolveOwner(spec: string, fs: LayerFs): Promise<Owner> {
  const [user = '', group] = spec.split(':', 2) as [string, string | undefined];
  let uid: number;
  let gid: number;
  if (isNumber(user)) {
    uid = Number(user);
    gid = uid;
  } else {
    const entry = (await readTable(fs, '/etc/passwd')).find((f) => f[0] === user);
    if (!entry) throw new SlipwayError('BUILD', `unable to find user ${user}: no matching entries in passwd file`);
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (group !== undefined && group !== '') {
    if (isNumber(group)) {
      gid = Number(group);
    } else {
      const entry = (await readTable(fs, '/etc/group')).find((f) => f[0] === group);
      if (!entry) throw new SlipwayError('BUILD', `unable to find group ${group}: no matching entries in group file`);
      gid = Number(entry[2]);
    }
  }
  return { uid, gid };
}

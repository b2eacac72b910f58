/**
 * Resolving a container's USER (`name`, `uid`, `name:group`, `uid:gid`)
 * against the image's /etc/passwd and /etc/group in the mounted rootfs, as
 * runc's user lookup does for Docker and BuildKit: a numeric uid missing
 * from passwd runs with gid 0; a name must exist; supplementary groups are
 * the groups that list the user, unless a group was given.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError } from '../errors.js';

/** A resolved process user. */
export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** Home from passwd ('/' when unknown), for HOME. */
  home: string;
}

async function readTable(rootfs: string, rel: string): Promise<string[][]> {
  const etc = join(rootfs, 'etc');
  try {
    if (!(await lstat(etc)).isDirectory()) return [];
    const p = join(etc, rel);
    if (!(await lstat(p)).isFile()) return [];
    return (await readFile(p, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

const isNum = (s: string) => /^\d+$/.test(s);

/** Resolves `spec` (empty: root) in the rootfs. */
export async function resolveUser(rootfs: string, spec: string | undefined): Promise<ProcessUser> {
  const [userPart = '', groupPart] = (spec || '0').split(':', 2) as [string, string | undefined];
  const [passwd, groups] = await Promise.all([readTable(rootfs, 'passwd'), readTable(rootfs, 'group')]);
  const entry = passwd.find((f) => (isNum(userPart) ? f[2] === userPart : f[0] === userPart));
  if (!entry && !isNum(userPart)) throw new SlipwayError('BUILD', `unable to find user ${userPart}: no matching entries in passwd file`);
  const uid = entry ? Number(entry[2]) : Number(userPart);
  let gid = entry ? Number(entry[3]) : 0;
  let additionalGids: number[] = [];
  if (groupPart !== undefined && groupPart !== '') {
    const g = groups.find((f) => (isNum(groupPart) ? f[2] === groupPart : f[0] === groupPart));
    if (!g && !isNum(groupPart)) throw new SlipwayError('BUILD', `unable to find group ${groupPart}: no matching entries in group file`);
    gid = g ? Number(g[2]) : Number(groupPart);
  } else if (entry) {
    const name = entry[0] as string;
    additionalGids = groups.filter((f) => (f[3] ?? '').split(',').includes(name)).map((f) => Number(f[2])).filter((g) => g !== gid);
  }
  return { uid, gid, additionalGids, home: entry?.[5] || '/' };
}

/**
 * File-system operations Node 20 has no API for (extended attributes,
 * device nodes, FIFOs), done by running Debian's small programs:
 * getfattr/setfattr (package attr), mknod and mkfifo (coreutils).
 */
import { childProcess } from '../builtins.js';
import { SlipwayError, isErrno } from '../errors.js';

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    childProcess().execFile(cmd, args, { encoding: 'latin1', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (!err) {
        resolve(stdout);
        return;
      }
      if (isErrno(err, 'ENOENT')) {
        reject(new SlipwayError('UNSUPPORTED', `${cmd} is not installed`, { cause: err }));
        return;
      }
      const msg = stderr.trim() || err.message;
      reject(new SlipwayError('IO', `${cmd} failed: ${msg}`, { cause: err }));
    });
  });
}

/** Set one extended attribute on `path` without following a final symlink. */
export async function setXattr(path: string, key: string, value: Buffer): Promise<void> {
  await run('setfattr', ['-h', '-n', key, '-v', `0x${value.toString('hex')}`, '--', path]);
}

/** All extended attributes of `path` (not following a final symlink). */
export async function listXattrs(path: string): Promise<Record<string, Buffer>> {
  const out = await run('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '--', path]);
  const result: Record<string, Buffer> = {};
  for (const line of out.split('\n')) {
    const m = /^([^#=][^=]*)=0x([0-9a-f]*)$/u.exec(line);
    if (m) result[Buffer.from(m[1] as string, 'latin1').toString('utf8')] = Buffer.from(m[2] as string, 'hex');
    else if (/^[^#=][^=]*$/u.test(line.trim()) && line.trim() !== '') result[line.trim()] = Buffer.alloc(0);
  }
  return result;
}

/** Create a character or block device node with the given permission bits. */
export async function mknod(path: string, type: 'char' | 'block', mode: number, major: number, minor: number): Promise<void> {
  await run('mknod', ['-m', (mode & 0o7777).toString(8), '--', path, type === 'char' ? 'c' : 'b', String(major), String(minor)]);
}

/** Create a FIFO with the given permission bits. */
export async function mkfifo(path: string, mode: number): Promise<void> {
  await run('mkfifo', ['-m', (mode & 0o7777).toString(8), '--', path]);
}

/** Linux dev_t split into major and minor (glibc's encoding). */
export function splitDev(rdev: number): { major: number; minor: number } {
  const r = BigInt(rdev);
  const major = Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & 0xfffff000n));
  const minor = Number((r & 0xffn) | ((r >> 12n) & 0xffffff00n));
  return { major, minor };
}

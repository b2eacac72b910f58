/** A byte-level USTAR writer for tests: any name or link (even `../evil`) goes in as given. */

/** One member of a hand-made tar. */
export interface Member {
  name: string;
  /** '0' file (default), '1' hardlink, '2' symlink, '5' directory. */
  type?: '0' | '1' | '2' | '5';
  body?: Buffer | string;
  linkname?: string;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** A USTAR archive of `members`, written byte by byte so that any name (even `../evil`) goes in as given. */
export function tarOf(members: Member[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const body = Buffer.from(m.body ?? '');
    const h = Buffer.alloc(512);
    h.write(m.name, 0, 100, 'utf8');
    h.write(octal(m.type === '5' ? 0o755 : 0o644, 8), 100);
    h.write(octal(0, 8), 108);
    h.write(octal(0, 8), 116);
    h.write(octal(body.length, 12), 124);
    h.write(octal(1700000000, 12), 136);
    h.write('        ', 148);
    h.write(m.type ?? '0', 156);
    h.write(m.linkname ?? '', 157, 100, 'utf8');
    h.write('ustar\0' + '00', 257, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    parts.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}


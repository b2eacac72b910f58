/**
 * Reads a file into a SlotRing's slots with positioned reads, one read
 * ahead of the consumer. Each yielded chunk stays valid until the consumer
 * has pulled three more (ByteSource keeps at most the current chunk and
 * slices of the two before it while joining a header that spans chunks);
 * anyone keeping a chunk longer must hold its slot (SlotRing.retain).
 */
import { read } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { SlotRing } from './slot-ring.js';

/** A file to read: an open FileHandle (read from offset 0), or a file descriptor such as stdin's (read from its current offset). */
export type RingSource = FileHandle | { fd: number };

function readFd(fd: number, buf: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, 0, buf.length, null, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/** Chunks kept held for the consumer after they were yielded. */
const KEPT = 3;

/** The bytes of `source` to its end, as chunks of ring memory. Reads are sequential, one ahead of the consumer. */
export async function* readIntoRing(source: RingSource, ring: SlotRing): AsyncGenerator<Buffer, void, undefined> {
  const held: number[] = [];
  const readAt = async (pos: number): Promise<[number, number]> => {
    const i = await ring.acquire();
    try {
      const bytesRead = 'read' in source ? (await source.read(ring.slot(i), 0, ring.slotSize, pos)).bytesRead : await readFd(source.fd, ring.slot(i));
      return [i, bytesRead];
    } catch (err) {
      ring.release(i);
      throw err;
    }
  };
  let pos = 0;
  let next: Promise<[number, number]> | undefined = readAt(pos);
  try {
    for (;;) {
      const current: Promise<[number, number]> = next;
      next = undefined;
      const [i, n] = await current;
      if (n === 0) {
        ring.release(i);
        return;
      }
      pos += n;
      next = readAt(pos);
      held.push(i);
      while (held.length > KEPT) ring.release(held.shift() as number);
      yield ring.slot(i).subarray(0, n);
    }
  } finally {
    for (const i of held) ring.release(i);
    if (next) {
      const [i] = await next.catch(() => [-1]);
      if (i !== undefined && i >= 0) ring.release(i);
    }
  }
}

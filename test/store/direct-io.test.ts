/**
 * Direct I/O for layer writes: the probe finds where ring memory is
 * aligned on a disk filesystem, leaving nothing behind (tmpfs takes
 * O_DIRECT too since Linux 6.6); FileWriter sends whole aligned pieces through the O_DIRECT
 * handle and the rest through the ordinary one, and the file holds exactly
 * the bytes written (checked with GNU sha256sum, reading from the disk);
 * a direct write the kernel refuses falls back to ordinary writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlotRing } from '../../src/archive/slot-ring.js';
import { FileWriter } from '../../src/registry/layer-sink.js';
import { DIRECT_IO_BLOCK, directIoAllowed, openDirect, probeDirectIo } from '../../src/store/direct-io.js';

const SLOT = 64 << 10;

/** The filesystem type of `dir` as stat -f names it (ext2/ext3, xfs, tmpfs, ...). */
function fsType(dir: string): string {
  return execFileSync('stat', ['-f', '-c', '%T', dir]).toString().trim();
}

const diskDir = mkdtempSync(join(tmpdir(), 'slipway-direct-'));
const onDisk = ['ext2/ext3', 'xfs', 'btrfs'].includes(fsType(diskDir));

/** A ring whose slots are placed for direct I/O in `dir` (as a pull places them); `base` undefined when the probe said no. */
function alignedRing(dir: string): { ring: SlotRing; direct: boolean } {
  let direct = false;
  const ring = new SlotRing(SLOT, 8, {
    headroom: DIRECT_IO_BLOCK,
    place: (mem) => {
      const at = probeDirectIo(dir, mem);
      direct = at !== undefined;
      return at ?? 0;
    },
  });
  return { ring, direct };
}

/** Counts the writes a FileHandle receives (it stays the real handle). */
function counting(fh: FileHandle): { fh: FileHandle; writes: () => number } {
  let n = 0;
  const proxy = new Proxy(fh, {
    get(target, prop, receiver) {
      if (prop === 'write') return (...args: Parameters<FileHandle['write']>) => { n++; return target.write(...args); };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { fh: proxy, writes: () => n };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const shaOfFile = (path: string): string => execFileSync('sha256sum', [path]).toString().slice(0, 64);

test('the probe finds an aligned offset on a disk filesystem and leaves no scratch file; SLIPWAY_DIRECT_IO=0 turns it off', { skip: !onDisk && 'the temporary directory is not on ext4, xfs or btrfs' }, () => {
  const { ring, direct } = alignedRing(diskDir);
  assert.equal(direct, true);
  assert.ok(ring.base >= 0 && ring.base < DIRECT_IO_BLOCK && ring.base % 16 === 0, `base ${ring.base}`);
  assert.deepEqual(readdirSync(diskDir), []);
  const saved = process.env.SLIPWAY_DIRECT_IO;
  process.env.SLIPWAY_DIRECT_IO = '0';
  try {
    assert.equal(directIoAllowed(), false);
    assert.equal(alignedRing(diskDir).direct, false, 'SLIPWAY_DIRECT_IO=0 turns it off');
  } finally {
    if (saved === undefined) delete process.env.SLIPWAY_DIRECT_IO;
    else process.env.SLIPWAY_DIRECT_IO = saved;
  }
});

test('FileWriter: whole aligned slots go direct, the rest the ordinary way, and the file holds exactly the bytes', { skip: !onDisk && 'the temporary directory is not on ext4, xfs or btrfs' }, async () => {
  const { ring } = alignedRing(diskDir);
  const path = join(diskDir, 'layer');
  const fh = await open(path, 'wx');
  const raw = await openDirect(path);
  assert.ok(raw, 'an O_DIRECT handle opens on ext4');
  const direct = counting(raw);
  const plain = counting(fh);
  const aligned = (c: Buffer): boolean => ring.slotOf(c) >= 0 && (c.byteOffset - ring.base) % DIRECT_IO_BLOCK === 0;
  // Resume after 1000 bytes already in the file; then 3 whole slots, an odd piece, 2 whole slots, a short tail.
  const data = randomBytes(1000 + 3 * SLOT + 777 + 2 * SLOT + 5000);
  await fh.write(data.subarray(0, 1000), 0, 1000, 0);
  const w = new FileWriter(plain.fh, { skip: 1000, retain: (c) => ring.retain(c), direct: { fh: direct.fh, aligned } });
  let off = 0;
  const piece = async (n: number): Promise<void> => {
    const i = await ring.acquire();
    const slot = ring.slot(i).subarray(0, n);
    data.copy(slot, 0, off, off + n);
    off += n;
    await w.write(slot);
    ring.release(i);
  };
  // The first slot straddles the 1000 resumed bytes: its written part starts at file offset 1000 (not aligned).
  await piece(SLOT);
  for (const n of [SLOT, SLOT, 777, SLOT, SLOT]) await piece(n);
  await piece(data.length - off);
  await w.flush();
  await fh.sync();
  await Promise.all([fh.close(), raw.close()]);
  assert.equal(shaOfFile(path), sha(data));
  // Slots 2-3 start at offsets SLOT and 2 × SLOT: direct. After the 777-byte piece, nothing is aligned again.
  assert.equal(direct.writes(), 2);
  assert.equal(plain.writes(), 5);
});

test('FileWriter: a direct write the kernel refuses is written the ordinary way, and later ones too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-direct-einval-'));
  const path = join(dir, 'layer');
  const fh = await open(path, 'wx');
  let refused = 0;
  const refusing = { write: async () => { refused++; throw Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' }); } } as unknown as FileHandle;
  const w = new FileWriter(fh, { direct: { fh: refusing, aligned: () => true } });
  const data = randomBytes(4 * DIRECT_IO_BLOCK);
  for (let i = 0; i < 4; i++) await w.write(data.subarray(i * DIRECT_IO_BLOCK, (i + 1) * DIRECT_IO_BLOCK));
  await w.flush();
  await fh.close();
  assert.equal(refused, 1);
  assert.equal(shaOfFile(path), sha(data));
});

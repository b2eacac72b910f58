/**
 * The filesystem of another stage or of an image, for `COPY --from`:
 * its layers applied into a private directory under the store's `tmp/`,
 * once per build, opened as a build context. Removed when the build ends.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError } from '../errors.js';
import { applyLayer } from '../layer/apply.js';
import type { ImageStore } from '../store/image-store.js';
import { openContext, type BuildContext } from './context/index.js';
import type { StageState } from './state.js';

/** Unpacked stage filesystems of one build. */
export class StageFilesystems {
  private readonly dirs = new Map<string, Promise<BuildContext>>();
  private tmp: string | undefined;

  constructor(private readonly store: ImageStore) {}

  /** The filesystem of `state` (identified by `key`) as a context. */
  context(key: string, state: () => Promise<StageState>): Promise<BuildContext> {
    let p = this.dirs.get(key);
    if (!p) {
      p = this.unpack(state);
      this.dirs.set(key, p);
    }
    return p;
  }

  private async unpack(state: () => Promise<StageState>): Promise<BuildContext> {
    const s = await state();
    if (!this.tmp) {
      await mkdir(join(this.store.root, 'tmp'), { recursive: true });
      this.tmp = await mkdtemp(join(this.store.root, 'tmp', `build-${process.pid}-`));
    }
    const dir = await mkdtemp(join(this.tmp, 'stage-'));
    for (const l of s.layers) {
      try {
        await applyLayer({ input: this.store.blobs.open(l.digest), dest: dir, label: `layer ${l.digest}`, devices: 'skip' });
      } catch (err) {
        throw new SlipwayError('BUILD', `cannot unpack a layer for COPY --from: ${(err as Error).message}`, { cause: err });
      }
    }
    return openContext({ dir });
  }

  /** Removes every unpacked directory. */
  async cleanup(): Promise<void> {
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
  }
}

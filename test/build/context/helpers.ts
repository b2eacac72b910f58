/** Test helpers: build a context directory from a compact description. */
import fs from 'node:fs';
import path from 'node:path';

/** A file (string contents), a directory ({}), a symlink ({ link }), or a mode-bearing file. */
export type Spec = Record<string, string | { link: string } | { dir: true; mode?: number } | { data: string; mode: number }>;

/** Create `spec` under `root` (parents made as needed). */
export function makeTree(root: string, spec: Spec): void {
  for (const [rel, v] of Object.entries(spec)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    if (typeof v === 'string') fs.writeFileSync(abs, v);
    else if ('link' in v) fs.symlinkSync(v.link, abs);
    else if ('dir' in v) { fs.mkdirSync(abs, { recursive: true }); if (v.mode !== undefined) fs.chmodSync(abs, v.mode); }
    else { fs.writeFileSync(abs, v.data); fs.chmodSync(abs, v.mode); }
  }
}

/** Sleep long enough that freshly written files are no longer "racily" recent for the stat cache. */
export function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 60));
}

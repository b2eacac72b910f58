/**
 * What slipway knows about the compressed forms of its (uncompressed) local
 * layers: per diff ID, the compressed digests it pushed or pulled, their
 * media types and the repositories that hold them (as Docker's v2
 * metadata service). Push uses it to HEAD or mount instead of compressing
 * and uploading again. Kept in `<root>/registry/layers/<diff hex>.json`,
 * replaced atomically; it is only a cache, losing it costs a re-upload.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { digestHex, type Digest } from '../oci/digest.js';

/** One compressed form of a layer. */
export interface CompressedForm {
  digest: Digest;
  size: number;
  mediaType: string;
  /** `host/repository` names known to hold it, most recent first. */
  repos: string[];
}

const MAX_REPOS = 16;

function file(root: string, diffId: Digest): string {
  return join(root, 'registry', 'layers', `${digestHex(diffId)}.json`);
}

/** The known compressed forms of a layer (none when unknown). */
export async function readLayerRecord(root: string, diffId: Digest): Promise<CompressedForm[]> {
  try {
    const doc = JSON.parse(await readFile(file(root, diffId), 'utf8')) as { forms?: CompressedForm[] };
    return Array.isArray(doc.forms) ? doc.forms : [];
  } catch {
    return [];
  }
}

/** Records that `repo` holds `form` of the layer `diffId`. */
export async function rememberLayer(root: string, diffId: Digest, form: Omit<CompressedForm, 'repos'>, repo: string): Promise<void> {
  const forms = await readLayerRecord(root, diffId);
  const existing = forms.find((f) => f.digest === form.digest);
  if (existing) existing.repos = [repo, ...existing.repos.filter((r) => r !== repo)].slice(0, MAX_REPOS);
  else forms.unshift({ ...form, repos: [repo] });
  const path = file(root, diffId);
  await mkdir(join(root, 'registry', 'layers'), { recursive: true });
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, JSON.stringify({ forms }));
  await rename(tmp, path);
}

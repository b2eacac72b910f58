/**
 * The registry client: transport (TLS, timeouts, retries), authentication
 * (challenges, Basic, Bearer tokens, config.json and credential helpers),
 * pull, push, login/logout and search.
 */
import { SlipwayError } from '../errors.js';
import { parseReference, withDefaultTag } from '../oci/reference.js';
import type { Platform } from '../oci/platform.js';
import type { ImageStore } from '../store/image-store.js';
import type { ImageRecord } from '../store/records.js';
import { findImage } from '../store/resolve.js';
import { pullImage, type LayerEvent } from './pull.js';

export { connectRegistry, newHttpClient, pullScope, pushScope, MAX_MANIFEST_BYTES } from './client.js';
export type { RegistryClient, ConnectOptions, FetchedManifest } from './client.js';
export { getCredentials, storeCredentials, eraseCredentials, authKey, dockerConfigDir, DOCKER_HUB_AUTH_KEY } from './credentials.js';
export type { Credentials } from './credentials.js';
export { parseChallenges } from './auth.js';
export { pullImage, resolveManifest, selectManifest } from './pull.js';
export type { PullOptions, PullResult, LayerEvent } from './pull.js';
export { pushImage } from './push.js';
export type { PushOptions, PushResult, PushCompression } from './push.js';
export { searchImages, splitSearchTerm } from './search.js';
export type { SearchResult, SearchOptions } from './search.js';
export { login, logout, verifyLogin, loginHost, loginDisplayName } from './login.js';
export { allowsPlainHttp, isLoopback, certsDir, tlsSettings } from './tls.js';

/** Options of ensureImage. */
export interface EnsureImageOptions {
  /** Pull even when the store has the image (`build --pull`). */
  always?: boolean;
  platform?: Platform;
  onLayer?: (e: LayerEvent) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * The image a user-typed name stands for, pulled when the store does not
 * have it (or always, with `always`). Used by `build` for FROM and
 * COPY --from images. Throws as pullImage does.
 */
export async function ensureImage(store: ImageStore, name: string, options: EnsureImageOptions = {}): Promise<ImageRecord> {
  if (!options.always) {
    const found = findImage(await store.list(), name);
    if (found) return found.record;
  }
  const ref = withDefaultTag(parseReference(name));
  await pullImage({ store, ref, ...(options.platform ? { platform: options.platform } : {}), ...(options.onLayer ? { onLayer: options.onLayer } : {}), ...(options.env ? { env: options.env } : {}) });
  const found = findImage(await store.list(), name);
  if (!found) throw new SlipwayError('INTERNAL', `pulled ${name} but cannot find it in the store`);
  return found.record;
}

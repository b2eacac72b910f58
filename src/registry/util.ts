/** Helpers shared by pull and push: bounded concurrency, short layer IDs. */

/**
 * Runs `fn` over `items` with at most `limit` in flight. The first failure
 * is thrown after the running ones settle (`onFail` runs at once, e.g. to
 * abort the others); results are in input order.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>, onFail?: () => void): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        if (failure === undefined) {
          failure = { err };
          onFail?.();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure.err;
  return results;
}

/** A short layer ID as Docker prints it in progress lines (12 hex characters). */
export function shortDigest(d: string): string {
  return (d.startsWith('sha256:') ? d.slice(7) : d).slice(0, 12);
}

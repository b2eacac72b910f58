/**
 * The build context of `slipway build`: .dockerignore (our port of
 * moby/patternmatcher), a filtered view of the context directory (or of an
 * extracted tar), COPY/ADD source selection with BuildKit's semantics, the
 * layer entries of a copy, and content checksums for cache keys.
 *
 * Typical use by the engine:
 *   const ignore = loadIgnore({ contextDir, dockerfilePath });
 *   const ctx = openContext({ dir: contextDir, ignore });
 *   const plan = resolveSources(ctx, { sources, dest, workdir, destKind });
 *   const { digest } = await checksumSources(plan, { cache });   // cache key input
 *   for await (const { header, body } of copyEntries(plan, { chown, chmod, clampMtime }))
 *     await tar.addEntry(header, body?.());
 */
export { loadIgnore, parseIgnoreFile, createIgnoreMatcher } from './ignore.js';
export type { IgnoreMatcher, IgnoreState, IgnoreStep, LoadIgnoreOptions } from './ignore.js';
export { PatternMatcher, cleanPath } from './patterns.js';
export type { Pattern, MatchInfo } from './patterns.js';
export { goMatch, validatePattern, containsWildcards, BadPatternError } from './go-match.js';
export { BuildContext, openContext, compareNames } from './context.js';
export type { ContextEntry, EntryStats, OpenContextOptions } from './context.js';
export { contextFromTar } from './tar-context.js';
export type { ContextFromTarOptions, TarContext } from './tar-context.js';
export { resolveSources, resolveDest, prefixMatch, SourceNotFoundError } from './sources.js';
export type { ResolveSourcesOptions } from './sources.js';
export type { CopyPlan, PlanEntry, PlanDir, PlanEntryType, DestKind } from './plan.js';
export { copyEntries, fileBody } from './entries.js';
export type { CopyEntriesOptions, ExistingDir, LayerEntry } from './entries.js';
export { checksumSources, planBytes, StatCache, unknownBytes } from './checksum.js';
export type { ChecksumOptions, ChecksumResult } from './checksum.js';

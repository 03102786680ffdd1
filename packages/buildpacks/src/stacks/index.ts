// Debian 12 stacks for the embedded engine: rootfs assembly from Debian packages (see README.md).

export { HttpError, IntegrityError, type RetryOptions } from './debian/download.ts';
export {
  debPath,
  type FetchedDeb,
  type FetchOptions,
  type FetchProgress,
  fetchDebs,
} from './debian/fetch.ts';
export { DEBIAN_KEYRING, SignatureError, verifyClearsigned } from './debian/gpgv.ts';
export { buildIndex, candidateOf, type PackageIndex, type PackageRecord } from './debian/package-index.ts';
export { parseRelations, type Relation, type RelationGroup } from './debian/relations.ts';
export {
  DEFAULT_SUITES,
  type LoadedIndexes,
  loadIndexes,
  loadPackages,
  loadRelease,
  type Release,
  type ReleaseOptions,
  type SuiteSource,
} from './debian/release.ts';
export { type Cut, type Resolution, ResolveError, type ResolveRequest, resolve } from './debian/resolve.ts';
export { compareVersions, parseVersion, type RelationOp, versionSatisfies } from './debian/version.ts';
export { BUILD_RECIPE, CNB_USER, RECIPES, RUN_RECIPE } from './recipes.ts';
export type { StackUser } from './rootfs/accounts.ts';
export { DEFAULT_KEEP, DEFAULT_PRUNE } from './rootfs/prune.ts';
export {
  type AssembleOptions,
  assembleRootfs,
  DISTRO,
  type Recipe,
  type RootfsPackage,
  type RootfsRecord,
  type RootfsResult,
} from './rootfs.ts';

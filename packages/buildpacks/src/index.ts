export { builderRepo, createBuilder } from './builder/create.ts';
export {
  BUILTIN_BUILDERS_DIR,
  type BuilderDefinition,
  BuilderDefinitionSchema,
  loadBuilderDefinition,
} from './builder/definition.ts';
export { loadBuilder, loadRunImage, unpackedRootfs } from './builder/load.ts';
export { packageBuildpack } from './builder/package.ts';
export { loadExtraCaCerts } from './platform/ca-certs.ts';
export type {
  BuildEvents,
  Builder,
  BuildpackLimits,
  BuildRequest,
  BuildResult,
  PreviousImage,
  RunImage,
} from './platform/context.ts';
export { BuildFailure, type FailureReason, type Phase } from './platform/failure.ts';
export { runLifecycle } from './platform/lifecycle.ts';
export {
  type EnsureResult,
  ensureBuilder,
  ensureStacks,
  stackStorePaths,
  withStackLock,
} from './stack-store/ensure.ts';
export {
  buildMatrix,
  IMAGE_FLAVOUR_LABEL,
  IMAGE_KIND_LABEL,
  type ImageRecipeArgs,
  type MatrixEntry,
  type MatrixInput,
  matrixPairs,
  matrixRecipe,
  matrixRepo,
} from './stack-store/matrix.ts';
export { STACK_REPOS, type StackProgress, stackPackages } from './stack-store/stacks.ts';

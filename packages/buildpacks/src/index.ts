export { BUILTIN_BUILDERS_DIR, type BuilderDefinition, BuilderDefinitionSchema, loadBuilderDefinition } from './builder/definition.ts';
export { builderRepo, createBuilder } from './builder/create.ts';
export { loadBuilder, loadRunImage, unpackedRootfs } from './builder/load.ts';
export type { Builder, BuildEvents, BuildpackLimits, BuildRequest, BuildResult, PreviousImage, RunImage } from './platform/context.ts';
export { BuildFailure, type FailureReason, type Phase } from './platform/failure.ts';
export { runLifecycle } from './platform/lifecycle.ts';
export { ensureBuilder, ensureStacks, type EnsureResult, stackStorePaths } from './stack-store/ensure.ts';
export { STACK_REPOS, stackPackages } from './stack-store/stacks.ts';

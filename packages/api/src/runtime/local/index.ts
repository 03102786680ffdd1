export type { ImageSource } from './rootfs.ts';
export { LocalRuntime, type LocalRuntimeOptions, NO_WEB_PROCESS } from './runtime.ts';
export type { NextRun } from './schedule.ts';

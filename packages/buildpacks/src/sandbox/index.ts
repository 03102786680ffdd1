export {
  acquireHostId,
  HOST_ID_BASE,
  type HostIdLease,
  prepareWritable,
  reclaimWritable,
} from './host-identity.ts';
export { GUEST_ADDRESS, OUTBOUND_RESOLV_CONF } from './network.ts';
export { runSandboxed } from './run.ts';
export { type SandboxSupport, sandboxSupport } from './support.ts';
export type {
  SandboxHostOptions,
  SandboxLimits,
  SandboxMount,
  SandboxOutcome,
  SandboxResult,
  SandboxSpec,
} from './types.ts';

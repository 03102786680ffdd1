// A fake kube-apiserver for tests (not a cluster): see test/fakes/README.md.
export { KubeError, type KubeStatus } from './kube-apiserver/errors.ts';
export type { AdmissionDenial, AdmissionHook, AdmissionRequest } from './kube-apiserver/handlers.ts';
export { type ContainerState, formatNs, parseTimeNs } from './kube-apiserver/logs.ts';
export { loadRoleRules, type PolicyRule, type RbacOptions } from './kube-apiserver/rbac.ts';
export { DEFAULT_RESOURCES, type ResourceDef, type ResourceRef } from './kube-apiserver/resources.ts';
export {
  type FakeApiServer,
  type FakeApiServerOptions,
  type Fault,
  type FaultHandle,
  type RecordedRequest,
  startFakeApiServer,
} from './kube-apiserver/server.ts';
export type { KubeObject, ObjectMeta, StoreEvent } from './kube-apiserver/store.ts';

// A fake Harbor in front of a real registry, for tests (not a Harbor): see test/fakes/README.md.
export type { Access, TokenRequestLog } from '../helpers/token-server.ts';
export type { Credentials, Identity } from './harbor/access.ts';
export { HarborError } from './harbor/http.ts';
export { doublestar } from './harbor/retention.ts';
export {
  type FakeHarbor,
  type FakeHarborOptions,
  type HarborFault,
  type HarborFaultHandle,
  type HarborRequest,
  startFakeHarbor,
} from './harbor/server.ts';
export type {
  ProjectRecord,
  QuotaRecord,
  RetentionExecution,
  RetentionRecord,
  RobotAccess,
  RobotPermission,
  RobotRecord,
} from './harbor/state.ts';

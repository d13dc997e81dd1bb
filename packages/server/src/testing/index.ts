export { type Blackhole, listenBlackhole } from './blackhole.js';
export * from './box.js';
export {
  DEFAULT_GARBAGE,
  type Fault,
  type FaultMatch,
  type FaultPlan,
  FaultSet,
  type FaultType,
} from './fault-set.js';
export { echo, startTestServer, TestServer, type TestServerOptions } from './test-server.js';

// @org/rolling-core/testing/contracts: the shared contract suites every adapter package runs
// against its real backend, and a user's own adapter can run too. They declare vitest
// tests (vitest is an optional peer dependency of core); the runner-free parts (in-memory
// adapters, fake clock, memoryFleet, contractContext) are `@org/rolling-core/testing`.
export type { ContractOptions } from './suite.js'
export {
  testLoadBalancer,
  loadBalancerTests,
  loadBalancerChecks,
  type LoadBalancerFixture,
  type LoadBalancerTestName,
  type LoadBalancerTestKey,
  type LoadBalancerOperatorAction,
} from './load-balancer.js'
export { testExecutor, executorTests, type ExecutorFixture, type ExecutorFaults, type FaultyHost, type ExecutorTestName } from './executor.js'
export { testArtifactStore, artifactStoreTests, type ArtifactStoreFixture, type ArtifactStoreTestName } from './artifact-store.js'
export { testLock, lockTests, type LockFixture, type LockTestName } from './lock.js'
export { testJournal, journalTests, type JournalFixture, type JournalHandle, type JournalTestKey, type JournalTestName } from './journal.js'
export { testControl, controlTests, type ControlFixture, type ControlTestKey, type ControlTestName } from './control.js'
export { testHealthCheck, healthCheckTests, type HealthCheckFixture, type HealthCheckTestName } from './health-check.js'
export { testGate, gateTests, type GateFixture, type GateTestKey, type GateContractOptions } from './gate.js'

// @org/rolling-core/testing: a fake clock, in-memory adapters and a fake fleet for
// engine tests and benchmarks, and the contract suites every adapter runs (these
// import vitest, an optional peer dependency of core).
export { FakeClock, type FakeClockOptions } from './fake-clock.js'
export {
  memoryLoadBalancer,
  type MemoryLoadBalancer,
  type MemoryLoadBalancerOptions,
  type LoadBalancerCall,
  type LoadBalancerOp,
} from './memory-lb.js'
export { memoryArtifacts, type MemoryArtifactStore, type MemoryArtifactsOptions, type PublishOptions } from './memory-artifacts.js'
export { memoryExecutor, type MemoryExecutor, type MemoryExecutorOptions, type MemoryExecHandler, type MemoryExecContext } from './memory-exec.js'
export { memoryHealthCheck, type MemoryHealthCheck, type MemoryHealthCheckOptions } from './memory-health.js'
export { memoryFleet, splitWords, type MemoryFleet, type MemoryFleetOptions, type FleetAdapters, type FakeHost } from './memory-fleet.js'
export { silentLogger } from './util.js'
export { contractContext, type ContractOptions } from './contracts/suite.js'
export {
  testLoadBalancer,
  loadBalancerTests,
  loadBalancerChecks,
  type LoadBalancerFixture,
  type LoadBalancerTestName,
  type LoadBalancerTestKey,
  type LoadBalancerOperatorAction,
} from './contracts/load-balancer.js'
export { testExecutor, executorTests, type ExecutorFixture, type ExecutorFaults, type FaultyHost, type ExecutorTestName } from './contracts/executor.js'
export { testArtifactStore, artifactStoreTests, type ArtifactStoreFixture, type ArtifactStoreTestName } from './contracts/artifact-store.js'
export { testLock, lockTests, type LockFixture, type LockTestName } from './contracts/lock.js'
export { testHealthCheck, healthCheckTests, type HealthCheckFixture, type HealthCheckTestName } from './contracts/health-check.js'
export { hostileBuilds, type HostileBuild, type HostileBuilds, type HostileBuildsOptions, type TestBuild } from './hostile-builds.js'
export { sampleArgv, type ArgvSampler } from './proc-args.js'

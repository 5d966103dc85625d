// @org/rolling-core/testing: a fake clock, in-memory adapters and a fake fleet for
// engine tests, benchmarks and a user's own scripts, under any test runner or none. The
// contract suites, which need vitest, are `@org/rolling-core/testing/contracts`.
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
export { memoryFleet, type MemoryFleet, type MemoryFleetOptions, type FleetAdapters, type FakeHost } from './memory-fleet.js'
export { splitWords } from './split-words.js'
export { silentLogger, contractContext } from './util.js'
export { hostileBuilds, type HostileBuild, type HostileBuilds, type HostileBuildsOptions, type TestBuild } from './hostile-builds.js'
export { sampleArgv, type ArgvSampler } from './proc-args.js'

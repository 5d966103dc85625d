/**
 * Test kit: a fake clock, in-memory adapters, `memoryFleet`, and the contract suites (`testLoadBalancer`, `testExecutor`, `testArtifactStore`, `testHealthCheck`) that every adapter runs. See the [adapter guide](../adapters.md).
 *
 * @module @org/rolling-core/testing
 */
export * from '../../packages/core/src/testing/index.js'

/**
 * The adapter contract suites (`testLoadBalancer`, `testExecutor`, `testArtifactStore`, `testHealthCheck`, `testLock`) that every adapter runs; they declare vitest tests. See the [adapter guide](../adapters.md).
 *
 * @module @org/rolling-core/testing/contracts
 */
export * from '../../packages/core/src/testing/contracts/index.js'

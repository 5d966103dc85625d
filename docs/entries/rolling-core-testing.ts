/**
 * Test kit: a fake clock, in-memory adapters and `memoryFleet`, for tests under any runner and for scripts; no test runner needed. The contract suites are `@org/rolling-core/testing/contracts`.
 *
 * @module @org/rolling-core/testing
 */
export * from '../../packages/core/src/testing/index.js'

/**
 * The engine (`rollout`, `plan`, `resume`, `breakLock`), the adapter contracts, events, hooks, errors, journal and lock, and the local adapters. See the [package README](../../packages/core/README.md).
 *
 * @module @org/rolling-core
 */
export * from '../../packages/core/src/index.js'

/**
 * For adapter authors: the helpers an adapter calls while implementing a contract (`waitUntil`, `childSignal`, `raceAbort`, `OutputStream`, the option checks). The contracts themselves are in `@org/rolling-core`. See the [adapter guide](../adapters.md).
 *
 * @module @org/rolling-core/adapter
 */
export * from '../../packages/core/src/adapter.js'

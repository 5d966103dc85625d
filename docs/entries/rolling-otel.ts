/**
 * A rollout as an OpenTelemetry trace (on `@opentelemetry/api`). See the [package README](../../packages/otel/README.md).
 *
 * @module @org/rolling-otel
 */
export * from '../../packages/otel/src/index.js'

/**
 * The OTLP/HTTP setup behind `rolling deploy --otel`, from the standard OTEL_* environment. See the [package README](../../packages/otel/README.md).
 *
 * @module @org/rolling-otel/otlp
 */
export * from '../../packages/otel/src/otlp.js'

// Public API of @org/rolling-otel: a rollout as an OpenTelemetry trace. The SDK setup for
// `rolling deploy --otel` is its own entry, `@org/rolling-otel/otlp`, so this one loads
// only `@opentelemetry/api`.
export { rolloutTracer, traceRollout, type RolloutTracer, type RolloutTracerOptions } from './tracer.js'
export { ATTR } from './attributes.js'

// `rolling deploy --otel`: an SDK tracer provider sending spans over OTLP/HTTP (JSON), set
// up from the standard OTEL_* environment, and its shutdown with a deadline. Kept apart
// from the reporter (index.ts) so that only a run with --otel loads the SDK.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { Tracer } from '@opentelemetry/api'

export interface OtlpTracingOptions {
  /** The environment to read OTEL_* from (the exporter itself reads `process.env`, as the SDK always does). @default process.env */
  env?: Readonly<Record<string, string | undefined>>
  /** Instead of the OTLP exporter (tests: the SDK's InMemorySpanExporter). */
  exporter?: SpanExporter
  /** Version of the tool, for the instrumentation scope. */
  version?: string
}

export interface OtlpTracing {
  tracer: Tracer
  /** Where spans go, for messages. */
  endpoint: string
  /**
   * Sends what is buffered and stops, within `deadlineMs`: never throws, never hangs.
   * Resolves with a warning to show when the spans could not all be sent.
   */
  shutdown(deadlineMs?: number): Promise<string | undefined>
}

const DEFAULT_ENDPOINT = 'http://localhost:4318'
/** The exporter's own default timeout (OTEL_EXPORTER_OTLP_TIMEOUT): also our deadline by default. */
const DEFAULT_TIMEOUT_MS = 10_000

/** Thrown for an OTEL_* setting this exporter cannot honour (the CLI prints it before anything starts). */
export class OtlpSettingError extends Error {
  override name = 'OtlpSettingError'
}

/**
 * The protocol asked for: this exporter speaks OTLP/HTTP with JSON bodies. `http/protobuf`
 * (the spec's default) is served by the same collector port, which takes either body, so
 * it is accepted; `grpc` is another port and wire format: refused with what to set.
 */
function checkProtocol(env: Readonly<Record<string, string | undefined>>): void {
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const value = env[name]?.trim()
    if (value === undefined || value === '') continue
    if (value === 'http/json' || value === 'http/protobuf') return
    throw new OtlpSettingError(`[rolling:otel] ${name}=${JSON.stringify(value)} is not supported: rolling sends OTLP over HTTP (set http/json)`)
  }
}

/** The deadline for the final flush: the exporter's timeout (OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT), else 10 s. */
export function exportTimeout(env: Readonly<Record<string, string | undefined>>): number {
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT']) {
    const value = env[name]?.trim()
    if (value === undefined || value === '') continue
    const ms = Number(value)
    if (!Number.isFinite(ms) || ms <= 0 || ms > 2 ** 31 - 1)
      throw new OtlpSettingError(`[rolling:otel] ${name} must be a number of milliseconds > 0, got ${JSON.stringify(value)}`)
    return ms
  }
  return DEFAULT_TIMEOUT_MS
}

function endpointOf(env: Readonly<Record<string, string | undefined>>): string {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()
  if (traces) return traces
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || DEFAULT_ENDPOINT
  return `${base.replace(/\/+$/, '')}/v1/traces`
}

/** A tracer provider exporting over OTLP/HTTP as the OTEL_* environment says; the resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, `service.name` `rolling` by default. */
export function startOtlpTracing(options: OtlpTracingOptions = {}): OtlpTracing {
  const env = options.env ?? process.env
  checkProtocol(env)
  const timeoutMs = exportTimeout(env)
  const exporter = options.exporter ?? new OTLPTraceExporter()
  const resource = resourceFromAttributes({ 'service.name': 'rolling' }).merge(detectResources({ detectors: [envDetector] }))
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter, { exportTimeoutMillis: timeoutMs })] })
  const tracer = provider.getTracer('@org/rolling-otel', options.version)
  const endpoint = options.exporter ? 'the given exporter' : endpointOf(env)
  return {
    tracer,
    endpoint,
    async shutdown(deadlineMs = timeoutMs) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`[rolling:otel] traces not sent to ${endpoint} within ${deadlineMs} ms; gave up`), deadlineMs)
      })
      try {
        return await Promise.race([
          provider.shutdown().then(
            () => undefined,
            (error: unknown) => `[rolling:otel] traces not sent to ${endpoint}: ${error instanceof Error ? error.message : String(error)}`,
          ),
          late,
        ])
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

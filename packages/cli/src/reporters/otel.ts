// `--otel`: the rollout as an OpenTelemetry trace sent over OTLP/HTTP (@org/rolling-otel).
// Imported only when the flag is given, so a run without it never loads the SDK. Sending
// is best effort: a collector that is down or slow costs at most the export timeout at
// the end and a warning on stderr, never the rollout or its exit code.
import type { Reporter, ReporterFactory } from './reporter.js'
import type { CliIo } from '../io.js'
import { UsageError, messageOf } from '../errors.js'
import { safeText } from '../safe-text.js'
import { cliVersion } from '../version.js'

export async function otelReporter(io: CliIo): Promise<ReporterFactory> {
  const [{ rolloutTracer }, { startOtlpTracing, OtlpSettingError }] = await Promise.all([import('@org/rolling-otel'), import('@org/rolling-otel/otlp')])
  let tracing: ReturnType<typeof startOtlpTracing>
  try {
    tracing = startOtlpTracing({ env: io.env, version: cliVersion() })
  } catch (error) {
    if (error instanceof OtlpSettingError) throw new UsageError(`rolling: --otel: ${error.message}`)
    throw error
  }
  return (ctx): Reporter => {
    const tracer = rolloutTracer({ tracer: tracing.tracer, now: ctx.now })
    const flush = async () => {
      const warning = await tracing.shutdown()
      if (warning) io.stderr.write(`${safeText(`rolling: warning: ${warning}`)}\n`)
    }
    return {
      event: (event) => tracer.event(event),
      notice() {
        // Notices are the CLI's, not the rollout's.
      },
      end: flush,
      async fail(error) {
        tracer.close(`could not start: ${messageOf(error)}`)
        await flush()
      },
      interrupted(message) {
        // The process exits right after: the spans are ended, sending them is not waited for.
        tracer.close(message)
        void tracing.shutdown()
      },
    }
  }
}

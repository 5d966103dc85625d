// The JSON reporter: one JSON object per line for every event of the run
// (`{"type": ..., "at": ..., ...payload}`), errors as their messages, ending with
// `rollout:end` and its result, or with an `error` line when the run could not start.
import type { RolloutEvent } from '@org/rolling-core'
import type { Reporter, ReporterFactory } from './reporter.js'
import { exitCodeOfError, messageOf } from '../errors.js'
import { safeJson } from '../safe-text.js'

export const jsonReporter: ReporterFactory = (ctx) => {
  const write = (record: Record<string, unknown>) => {
    let text: string
    try {
      // The values as they are; only the bytes a terminal would obey (C1, DEL) are \u-escaped.
      text = safeJson(record, replacer)
    } catch (error) {
      // A payload that cannot be serialised (a cycle in a warning's data) still gets its line.
      text = safeJson({ type: record.type, at: record.at, unserialisable: messageOf(error) })
    }
    ctx.out.write(`${text}\n`)
  }
  const at = () => new Date(ctx.now()).toISOString()
  const reporter: Reporter = {
    event(event: RolloutEvent) {
      const { type, ...payload } = event
      write({ type, at: at(), ...payload })
    },
    notice(message) {
      write({ type: 'notice', at: at(), message })
    },
    end() {
      // The rollout:end event carried the result: nothing left to say.
    },
    fail(error) {
      const code = (error as { code?: unknown })?.code
      write({ type: 'error', at: at(), message: messageOf(error), ...(typeof code === 'string' ? { code } : {}), exitCode: exitCodeOfError(error) })
    },
  }
  return reporter
}

/** Errors become their messages (JSON.stringify would give `{}`). */
function replacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value
}

// The adapter's error: core's RollingError with code `ADAPTER` (so callers that branch on
// codes keep working), a `reason` for this adapter's own cases, and a `[rolling:tinylb]` prefix.
import { RollingError } from '@org/rolling-core'

export type TinyLbErrorReason =
  /** The admin API did not answer (refused, reset, or no answer in time). */
  | 'unreachable'
  /** The admin API answered with an error status. */
  | 'api'
  /** A target that is not a backend of this tinylb. */
  | 'unknown-target'

export class TinyLbError extends RollingError {
  readonly reason: TinyLbErrorReason
  constructor(reason: TinyLbErrorReason, message: string, options?: { cause?: unknown }) {
    super('ADAPTER', `[rolling:tinylb] ${message}`, options)
    this.name = 'TinyLbError'
    this.reason = reason
  }
}

// The adapter's error: core's RollingError with code `ADAPTER`, plus a `reason` callers
// can branch on (an unreachable socket is not the same failure as a missing server).
import { RollingError } from '@org/rolling-core'

export type HaproxyErrorReason =
  /** The socket path or address does not answer (missing, refused, wrong permissions). */
  | 'unreachable'
  /** The stats socket lacks `level admin`: HAProxy answered "Permission denied". */
  | 'permission'
  | 'unknown-backend'
  | 'unknown-server'
  /** A target id that is not `<backend>/<server>` of a configured backend. */
  | 'unknown-target'
  /** HAProxy did not answer a command in time. */
  | 'timeout'
  /** HAProxy answered a command with an error. */
  | 'command'
  /** The haproxy process failed to start or is not installed. */
  | 'process'

export class HaproxyError extends RollingError {
  readonly reason: HaproxyErrorReason
  constructor(reason: HaproxyErrorReason, message: string, options?: { cause?: unknown }) {
    super('ADAPTER', `[rolling:haproxy] ${message}`, options)
    this.name = 'HaproxyError'
    this.reason = reason
  }
}

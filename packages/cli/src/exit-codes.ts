// The CLI's exit codes, one per way a run can end, so scripts and CI can branch on them.
// Documented in `rolling --help` and the README; tests check each one.
import type { RolloutStatus } from '@org/rolling-core'

export const ExitCode = {
  /** The rollout succeeded (or the command did what it was asked). */
  succeeded: 0,
  /** The rollout failed, or could not start (lock held, build not found, empty pool). */
  failed: 1,
  /** A target failed its new build: it is left out of the load balancer, no further batch ran. */
  halted: 2,
  /** Ctrl-C once: in-flight steps finished, healthy targets were put back. */
  aborted: 3,
  /** Bad config file, flag or usage. */
  badConfig: 4,
  /** Ctrl-C twice: stopped at once; the journal is kept for `rolling resume`. */
  interrupted: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export function exitCodeOf(status: RolloutStatus): ExitCodeValue {
  return ExitCode[status]
}

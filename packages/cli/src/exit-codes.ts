// The CLI's exit codes, one per way a run can end, so scripts and CI can branch on them.
// Documented in `rolling --help` and the README; tests check each one.
import type { RolloutResult, RolloutStatus } from '@org/rolling-core'

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
  /** The rollout went to its end, but targets failed within the failure budget (`maxFailures`) and are left out. */
  degraded: 5,
  /**
   * `--strict` (or `strict: true` in the config) only: the rollout succeeded, the fleet serves
   * the new build, but the result carries warnings (targets skipped, excluded, unverified, ...).
   * Without `--strict` that is 0: the result is true, the warnings are printed.
   */
  strictWarnings: 6,
  /** Ctrl-C twice: stopped at once; the journal is kept for `rolling resume`. */
  interrupted: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export function exitCodeOf(status: RolloutStatus): ExitCodeValue {
  return ExitCode[status]
}

/** The exit code of a finished rollout: its status, or 6 for a succeeded one with warnings under `strict`. */
export function exitCodeOfResult(result: Pick<RolloutResult, 'status' | 'warnings'>, strict = false): ExitCodeValue {
  if (strict && result.status === 'succeeded' && (result.warnings?.length ?? 0) > 0) return ExitCode.strictWarnings
  return exitCodeOf(result.status)
}

/** `succeeded`, `succeeded with 2 warnings`, `succeeded with 2 warnings, --strict`. */
export function describeExit(result: Pick<RolloutResult, 'status' | 'warnings'>, strict = false): string {
  const n = result.warnings?.length ?? 0
  if (result.status !== 'succeeded' || n === 0) return result.status
  return `succeeded with ${n} warning${n === 1 ? '' : 's'}${strict ? ', --strict' : ''}`
}

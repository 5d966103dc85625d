// What a rollout returns: each target's outcome and phase timings, and the status.
import type { Artifact, ExcludedTarget, Target } from './types.js'

/**
 * `degraded`: the rollout went to its end, but targets failed within the failure budget
 * (`maxFailures`); they are left out of the load balancer and listed in `needsAttention`.
 */
export type RolloutStatus = 'succeeded' | 'degraded' | 'halted' | 'failed' | 'aborted'

/**
 * - `done`: attached and seen healthy on the new build (the health check or verify said which build)
 * - `unverified`: attached and healthy, but its build could not be confirmed (the health check
 *   reports none and verify did not run or could not tell)
 * - `skipped`: pre-check failed (or `beforeTarget` vetoed); nothing about it changed
 * - `failed`: left out of the load balancer for manual verification
 * - `rolled-back`: new build failed, previous build restored and attached (`onFailure: 'rollback'`)
 * - `restored`: aborted after detach; healthy, so attached again (it may run either build)
 * - `stopped`: verify found the wrong build; detached and stopped
 * - `pending`: never reached (halted or aborted before its batch)
 */
export type TargetOutcome = 'done' | 'unverified' | 'skipped' | 'failed' | 'rolled-back' | 'restored' | 'stopped' | 'pending'

export type Phase = 'precheck' | 'prepare' | 'detach' | 'deploy' | 'settle' | 'attach' | 'hold' | 'gate' | 'rollback' | 'verify' | 'stop'

export interface TargetReport {
  target: Target
  outcome: TargetOutcome
  /** Batch index, or -1 for a target first seen by the verify phase. */
  batch: number
  /** Why it was skipped, failed, stopped or restored. */
  reason?: string
  /** The phase it failed in. */
  failedIn?: Phase
  /** Milliseconds spent in each phase. */
  timings: Partial<Record<Phase, number>>
  /** The build it reported at the end, when known. */
  version?: string
}

/** Something a user must know about a finished rollout, even a `succeeded` one. */
export interface RolloutWarning {
  /**
   * - `skipped`: a planned target was not deployed (pre-check, veto, operator, drain);
   * - `stopped`: verify stopped a target on the wrong build;
   * - `unverified`: deployed, but its build was never confirmed;
   * - `excluded`: out of service by an operator's hand when the rollout began;
   * - `left-out`: a planned target no longer in service at the end;
   * - `forced-drain`: its remaining connections were closed (`drain.onTimeout: 'proceed'`).
   */
  kind: 'skipped' | 'stopped' | 'unverified' | 'excluded' | 'left-out' | 'forced-drain'
  target: Target
  message: string
}

export interface RolloutResult {
  status: RolloutStatus
  runId: string
  service: string
  artifact: Artifact | undefined
  /** Every target the rollout saw, in plan order, then those found by verify. */
  targets: TargetReport[]
  /**
   * Targets that need a human: `failed` ones (left out of the load balancer), planned
   * targets no longer in service at the end, and targets someone else took out mid-run.
   */
  needsAttention: Target[]
  /** Registered targets an operator had taken out of service; not deployed, left as found. */
  excluded: ExcludedTarget[]
  /** Skipped, stopped, unverified, excluded and left-out targets, one line each. */
  warnings: RolloutWarning[]
  batches: number
  startedAt: number
  endedAt: number
  durationMs: number
  /** Why the rollout halted, failed, aborted or ended degraded. */
  reason?: string
  /** Each gate check, in order. */
  gates?: { gate: string; batch: number; final: boolean; passed: boolean; detail: string; durationMs: number }[]
  /** Each pause and how it ended. */
  pauses?: { index: number; how: 'approved' | 'aborted' | 'timeout'; by?: string; note?: string; durationMs: number }[]
  error?: Error
}

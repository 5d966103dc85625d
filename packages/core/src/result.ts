// What a rollout returns: each target's outcome and phase timings, and the status.
import type { Artifact, Target } from './types.js'

export type RolloutStatus = 'succeeded' | 'halted' | 'failed' | 'aborted'

/**
 * - `done`: attached and healthy on the new build
 * - `skipped`: pre-check failed (or `beforeTarget` vetoed); nothing about it changed
 * - `failed`: left out of the load balancer for manual verification
 * - `rolled-back`: new build failed, previous build restored and attached (`onFailure: 'rollback'`)
 * - `restored`: aborted after detach; healthy, so attached again (it may run either build)
 * - `stopped`: verify found the wrong build; detached and stopped
 * - `pending`: never reached (halted or aborted before its batch)
 */
export type TargetOutcome = 'done' | 'skipped' | 'failed' | 'rolled-back' | 'restored' | 'stopped' | 'pending'

export type Phase = 'precheck' | 'prepare' | 'detach' | 'deploy' | 'settle' | 'attach' | 'rollback' | 'verify' | 'stop'

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

export interface RolloutResult {
  status: RolloutStatus
  runId: string
  service: string
  artifact: Artifact | undefined
  /** Every target the rollout saw, in plan order, then those found by verify. */
  targets: TargetReport[]
  /** Targets left out of the load balancer that need a human: `failed` ones. */
  needsAttention: Target[]
  batches: number
  startedAt: number
  endedAt: number
  durationMs: number
  /** Why the rollout halted, failed or aborted. */
  reason?: string
  error?: Error
}

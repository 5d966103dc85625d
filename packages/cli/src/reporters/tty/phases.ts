// The phases a target goes through in the terminal view, and how an engine outcome shows:
// kept apart from the state so that a new phase or outcome is one place to change.
import type { TargetOutcome } from '@org/rolling-core'

/** A target's phase as the view shows it. */
export type ViewPhase =
  | 'pending'
  | 'pre-check' // `target:precheck`: its health is checked before it is taken out
  | 'detaching' // `target:detaching`: detach and drain
  | 'detached' // out of the load balancer, its deploy about to start
  | 'deploying'
  | 'settling'
  | 'unhealthy'
  | 'healthy' // waits for the rest of its batch: a batch is attached in one call
  | 'attaching'
  | 'holding' // `settle.hold`: attached, watched before its batch counts
  | 'done'
  | 'unverified' // attached and healthy, its build not confirmed
  | 'skipped'
  | 'failed'
  | 'rolled back'
  | 'restored'
  | 'stopped'
  | 'earlier run' // a resumed run: finished before the interruption (its outcome is in the summary)

/** Phases after which nothing more happens to the target in this run. */
export const FINISHED: ReadonlySet<ViewPhase> = new Set<ViewPhase>([
  'done',
  'unverified',
  'skipped',
  'failed',
  'rolled back',
  'restored',
  'stopped',
  'earlier run',
])

/** The phase a batch's final outcome shows as; a record, so a new outcome must be given one. */
export const OUTCOME_PHASE = {
  done: 'done',
  unverified: 'unverified',
  skipped: 'skipped',
  failed: 'failed',
  'rolled-back': 'rolled back',
  restored: 'restored',
  stopped: 'stopped',
  pending: 'pending',
} as const satisfies Record<TargetOutcome, ViewPhase>

/** The fleet check before a batch (the gate), while it runs. */
export interface GateView {
  batch: number
  targets: number
  since: number
}

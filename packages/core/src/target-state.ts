// The states a target goes through in a rollout, as the journal records them: the last
// one recorded tells `resume` where to pick up.
import type { TargetOutcome } from './result.js'

/** Every journal state of a target, in the order a rollout meets them; the journal reader checks records against it. */
export const TARGET_STATES = [
  'skipped',
  'detaching',
  'detached',
  'deploying',
  'deployed',
  'rolling-back',
  'attaching',
  'holding',
  'ejecting',
  'stopping',
  'done',
  'unverified',
  'failed',
  'rolled-back',
  'restored',
  'stopped',
] as const

/** A journal state of a target; the last one recorded tells `resume` where to pick up. */
export type TargetState = (typeof TARGET_STATES)[number]

// Fails to compile when an outcome is added without its state.
const everyOutcome: Exclude<TargetOutcome, 'pending'> extends TargetState ? true : never = true
void everyOutcome

/** States after which nothing more happens to a target in its batch (verify and ejects aside). */
export const FINAL_STATES: ReadonlySet<string> = new Set(['skipped', 'done', 'unverified', 'failed', 'rolled-back', 'restored', 'stopped'])

/** Outcomes of targets this rollout put (back) in service. */
export const ATTACHED: ReadonlySet<TargetOutcome> = new Set(['done', 'unverified', 'rolled-back', 'restored'])

/** States of a target taken out of the load balancer by this run and not yet back or finished. */
export const OUT_OF_SERVICE: ReadonlySet<string> = new Set([
  'detaching',
  'detached',
  'deploying',
  'deployed',
  'rolling-back',
  'attaching',
  'ejecting',
  'stopping',
])

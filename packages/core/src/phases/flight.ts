// A target's way through one batch, and the two ends every phase may give it: failed
// (left out for a human, or rolled back on request) and skipped (left as it was).
import type { Target } from '../types.js'
import type { Engine } from '../engine.js'
import type { Phase } from '../result.js'

/** Where a target enters the batch: fresh, or mid-way when resuming from the journal. */
export type Entry = 'fresh' | 'detach' | 'deploy' | 'settle' | 'rollback' | 'attach' | 'hold'

/** The outcome a target gets once (re)attached. `skipped`: put back undeployed (undrained). */
export type AttachAs = 'done' | 'unverified' | 'rolled-back' | 'restored' | 'skipped'

export interface Flight {
  target: Target
  entry: Entry
  /** Set once the target is to be (re)attached. */
  attachAs?: AttachAs
  attachReason?: string
  /** Set when the target is finished without attaching (skipped, failed, pending). */
  over: boolean
}

/** The target stays out of the load balancer for a human to look at. */
export function fail(engine: Engine, f: Flight, batch: number, phase: Phase, reason: string): void {
  f.over = true
  f.attachAs = undefined
  engine.settleOutcome(f.target, 'failed', reason, phase)
  engine.emitter.emit('target:failed', { target: f.target, batch, phase, reason })
}

/** The target is left as it was (in service on its old build, or out by someone else's hand). */
export function skip(engine: Engine, f: Flight, batch: number, reason: string, phase?: Phase): void {
  f.over = true
  f.attachAs = undefined
  engine.settleOutcome(f.target, 'skipped', reason, phase)
  engine.emitter.emit('target:skipped', { target: f.target, batch, reason })
}

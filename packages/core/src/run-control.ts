// What the engine keeps of the rollout control options while a run goes (issue 13): the
// gates and their outcomes, the pause and how each ended, the failure budget and what it
// has spent, the deadline, and how a pause or the deadline asks the run to stop. The
// phases that act on it live in phases/gate.ts, phases/pause.ts, phases/budget.ts and
// phases/deadline.ts.
import type { Target } from './types.js'
import type { Gate } from './gates/gate.js'
import type { ControlChannel } from './control.js'
import type { ZonePlan } from './plan.js'
import type { Amount } from './options.js'
import type { ResolvedOptions } from './resolve.js'
import type { ResolvedPause } from './control-options.js'
import type { RolloutResult } from './result.js'
import { ApprovalBox } from './pause.js'

export class RunControl {
  readonly gates: readonly Gate[]
  readonly bake: number
  readonly pause: ResolvedPause | undefined
  readonly channel: ControlChannel | undefined
  readonly zones: Readonly<ZonePlan> | undefined
  readonly maxFailures: Amount
  readonly deadlineMs: number | undefined
  readonly onMismatch: 'stop' | 'deploy'
  /** `run.approve()` / `run.abort()` while paused, in this process. */
  readonly approvals = new ApprovalBox()
  /** The last control message seen, so none is acted on twice. */
  readonly seen: { last?: string } = {}
  /** The failure budget as a count of the planned targets (set with the plan). */
  budget = 0
  /** Targets that failed within the budget, in order: left out and listed. */
  readonly failures: Target[] = []
  /** Pauses released before (from the journal, on resume): not paused again. */
  released = new Set<number>()
  /** The pause the journal shows open (resume): paused again until its own end. */
  open: { index: number; until: number } | undefined
  readonly gateOutcomes: NonNullable<RolloutResult['gates']> = []
  readonly pauses: NonNullable<RolloutResult['pauses']> = []
  /** Asks the run for a graceful abort (a pause aborted or timed out, the deadline). */
  readonly requestStop: (reason: string) => void

  constructor(options: ResolvedOptions, requestStop: (reason: string) => void) {
    this.gates = options.gates
    this.bake = options.bake
    this.pause = options.pause
    this.channel = options.control
    this.zones = options.zones
    this.maxFailures = options.maxFailures
    this.deadlineMs = options.deadlineMs
    this.onMismatch = options.onMismatch
    this.requestStop = requestStop
  }
}

// What the rollout is doing right now, folded from its events: which targets are in
// which step. The first Ctrl-C says what the graceful abort is waiting for from this.
import type { RolloutEvent, Target } from '@org/rolling-core'

/** A target's step as its events say (`target:precheck`, `target:detaching`, ... each start one). */
export type Step = 'pre-check' | 'draining' | 'deploying' | 'settling' | 'attaching' | 'holding' | 'rolling back' | 'verifying' | 'stopping'

export class InFlight {
  readonly #steps = new Map<string, { target: Target; step: Step }>()
  /** The phase of the run outside any target, for when nothing is in flight. */
  phase: 'starting' | 'batches' | 'gate' | 'verify' | 'ending' = 'starting'

  update(event: RolloutEvent): void {
    const set = (target: Target, step: Step) => this.#steps.set(target.id, { target, step })
    switch (event.type) {
      case 'batch:start':
        this.phase = 'batches'
        break
      case 'fleet:check':
        this.phase = 'gate'
        break
      case 'target:precheck':
        set(event.target, 'pre-check')
        break
      case 'target:detaching':
        set(event.target, 'draining')
        break
      case 'target:holding':
        set(event.target, 'holding')
        break
      case 'target:deploying':
        set(event.target, 'deploying')
        break
      case 'target:deployed':
        set(event.target, 'settling')
        break
      case 'target:healthy':
        set(event.target, 'attaching')
        break
      case 'target:unhealthy':
        // Next comes a rollback or the failure; a rollback is the only step that takes time.
        set(event.target, 'rolling back')
        break
      case 'target:skipped':
      case 'target:attached': // with `settle.hold`, `target:holding` follows and sets its step again
      case 'target:failed':
      case 'target:stopped':
        this.#steps.delete(event.target.id)
        break
      case 'batch:end':
        for (const id of Object.keys(event.outcomes)) this.#steps.delete(id)
        break
      case 'verify:start':
        this.phase = 'verify'
        break
      case 'verify:mismatch':
        set(event.target, 'stopping')
        break
      case 'rollout:end':
        this.phase = 'ending'
        this.#steps.clear()
        break
    }
  }

  /** Targets by step, in the order of the steps. */
  steps(): Map<Step, Target[]> {
    const out = new Map<Step, Target[]>()
    for (const { target, step } of this.#steps.values()) {
      const list = out.get(step) ?? []
      list.push(target)
      out.set(step, list)
    }
    return out
  }

  /** `host-1, host-2 (deploying); host-3 (settling)`, or what the run is doing when no target is busy. */
  describe(max = 8): string {
    const parts: string[] = []
    for (const [step, targets] of this.steps()) {
      const ids = targets.slice(0, max).map((t) => t.id)
      const more = targets.length > max ? ` and ${targets.length - max} more` : ''
      parts.push(`${ids.join(', ')}${more} (${step})`)
    }
    if (parts.length > 0) return parts.join('; ')
    if (this.phase === 'starting') return 'the start of the rollout (lock, build, discovery)'
    if (this.phase === 'verify') return 'the verify phase'
    if (this.phase === 'gate') return 'the fleet check before the next batch'
    return 'the current step'
  }
}

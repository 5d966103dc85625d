// Which phase each target is in, folded from the rollout's events: the one reading of
// "when does a phase start and end" that the CLI's timeline and the OpenTelemetry
// reporter share. Pure: events in, phase starts and ends out; the caller adds the time.
import type { RolloutEvent } from './events.js'
import type { Phase } from './result.js'
import type { Target } from './types.js'

/**
 * How a phase ended: `ok`; `failed` (the target failed in it); `skipped` (the target was
 * left as it was); `cut` (the rollout ended, halted or aborted, with the phase open).
 */
export type PhaseEnd = 'ok' | 'failed' | 'skipped' | 'cut'

export type PhaseChange =
  | { kind: 'start'; target: Target; batch: number; phase: Phase }
  | { kind: 'end'; target: Target; batch: number; phase: Phase; end: PhaseEnd; reason?: string }

interface Open {
  target: Target
  batch: number
  phase: Phase
}

/** The event that starts a phase; ends of phases are read from the order of events. */
const STARTS: Partial<Record<RolloutEvent['type'], Phase>> = {
  'target:precheck': 'precheck',
  'target:detaching': 'detach',
  'target:deploying': 'deploy',
  'target:deployed': 'settle',
  'target:rolling-back': 'rollback',
  'target:attaching': 'attach',
  'target:holding': 'hold',
}

/**
 * Phases with an end event of their own (`target:detached`, `target:deployed`, ...): one that
 * ends because the next starts without it was cut short (an abort). Pre-check and rollback
 * have none: the next phase starting is their end.
 */
const OWN_END: ReadonlySet<Phase> = new Set<Phase>(['detach', 'deploy', 'settle', 'attach', 'hold'])
/** A start event that is also the end of the phase before it. */
const ENDS: Partial<Record<RolloutEvent['type'], Phase>> = { 'target:deployed': 'deploy' }

/**
 * Feed it every event in order; each call returns the phases that ended and started with
 * that event. A phase ends when the next one starts, on the event that closes it
 * (`target:detached`, `target:healthy`, `target:attached`, ...), on a failure or skip, or
 * at `batch:end`/`rollout:end` (then `cut`), so no phase is left open at the end.
 */
export class PhaseTracker {
  readonly #open = new Map<string, Open>()
  /** The last phase each target failed in. */
  readonly #failed = new Map<string, Phase>()

  apply(event: RolloutEvent): PhaseChange[] {
    const out: PhaseChange[] = []
    switch (event.type) {
      case 'target:detached':
      case 'target:healthy':
      case 'target:attached':
        this.#end(event.target.id, 'ok', out)
        break
      case 'target:unhealthy':
        this.#end(event.target.id, 'failed', out, event.reason)
        break
      case 'target:skipped':
        this.#end(event.target.id, 'skipped', out, event.reason)
        break
      case 'target:failed': {
        const id = event.target.id
        const open = this.#open.get(id)
        // `target:unhealthy` already ended its settle as failed.
        if (!open && this.#failed.get(id) === event.phase) break
        if (open?.phase !== event.phase) {
          // Failed with no phase open (a fleet check or a hold ejecting a finished target,
          // an abort between steps): the failure still shows, as a phase of no length.
          this.#end(id, 'ok', out)
          this.#open.set(id, { target: event.target, batch: event.batch, phase: event.phase })
          out.push({ kind: 'start', target: event.target, batch: event.batch, phase: event.phase })
        }
        this.#end(id, 'failed', out, event.reason)
        break
      }
      case 'target:stopped':
        // Verify stopped it on the wrong build: no start event, so a phase of no length.
        this.#end(event.target.id, 'cut', out)
        out.push({ kind: 'start', target: event.target, batch: -1, phase: 'stop' })
        out.push({ kind: 'end', target: event.target, batch: -1, phase: 'stop', end: 'failed', reason: event.reason })
        break
      case 'batch:end':
        for (const [id, open] of this.#open) if (open.batch === event.index) this.#end(id, 'cut', out)
        break
      case 'rollout:end':
        for (const id of [...this.#open.keys()]) this.#end(id, 'cut', out)
        break
      default: {
        const phase = STARTS[event.type]
        if (phase === undefined) break
        const { target, batch } = event as { target: Target; batch: number }
        const open = this.#open.get(target.id)?.phase
        // A rollback starts because the step before it failed (a deploy; a settle has already said so).
        const how: PhaseEnd = phase === 'rollback' ? 'failed' : open !== undefined && OWN_END.has(open) && ENDS[event.type] !== open ? 'cut' : 'ok'
        this.#end(target.id, how, out, how === 'failed' ? (event as { reason?: string }).reason : undefined)
        this.#open.set(target.id, { target, batch, phase })
        out.push({ kind: 'start', target, batch, phase })
      }
    }
    return out
  }

  /** The phase a target is in now, if any. */
  phaseOf(id: string): Phase | undefined {
    return this.#open.get(id)?.phase
  }

  #end(id: string, end: PhaseEnd, out: PhaseChange[], reason?: string): void {
    const open = this.#open.get(id)
    if (!open) return
    this.#open.delete(id)
    if (end === 'failed') this.#failed.set(id, open.phase)
    out.push(reason === undefined ? { kind: 'end', ...open, end } : { kind: 'end', ...open, end, reason })
  }
}

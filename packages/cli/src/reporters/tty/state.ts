// What the terminal view knows about the run, folded from the rollout's events: each
// target's phase and since when, the batches and their durations (for the ETA), failures,
// and the last lines of output per target. Pure bookkeeping: nothing here writes.
import type { RolloutEvent, Target } from '@org/rolling-core'
import { FINISHED, type GateView, OUTCOME_PHASE, type ViewPhase } from './phases.js'

export { FINISHED, type GateView, OUTCOME_PHASE, type ViewPhase } from './phases.js'

export interface TargetView {
  target: Target
  batch: number
  phase: ViewPhase
  /** Wall-clock ms the phase started. */
  since: number
  /** Why it failed, was skipped or stopped. */
  reason?: string
  /** The engine's phase it failed in (`settle`, `deploy`, ...). */
  failedIn?: string
}

export interface FinishedBatch {
  index: number
  total: number
  durationMs: number
  targets: TargetView[]
}

/** Lines of host output kept per target: the pane never shows more. */
const KEEP_LINES = 50
const MAX_PARTIAL = 1000

export class ViewState {
  runId: string | undefined
  ref: string | undefined
  version: string | undefined
  resumed = false
  startedAt: number
  /** Index of the batch running now, -1 before the first. */
  batch = -1
  batchTotal = 0
  /** Highest batch index ended so far. */
  #lastEnded = -1
  /** When each batch started, and its targets: kept by index, not as "the current one". */
  readonly #batches = new Map<number, { startedAt: number; targets: TargetView[] }>()
  readonly batchDurations: number[] = []
  readonly targets = new Map<string, TargetView>()
  /** Targets of the batch running now, in plan order. */
  current: TargetView[] = []
  /** Every failure of the run, in the order seen: kept on screen until the end. */
  readonly failures: TargetView[] = []
  verifying: number | undefined
  gate: GateView | undefined
  /** A gate being watched between batches (gates option), while it runs. */
  watching: { gate: string; batch: number; total: number; final: boolean; since: number } | undefined
  /** The rollout waits for `rolling approve`, every target in service. */
  paused: { index: number; total: number; until: number; onTimeout: 'abort' | 'approve'; control?: string; since: number } | undefined
  readonly #output = new Map<string, { lines: string[]; partial: string }>()

  constructor(now: number) {
    this.startedAt = now
  }

  /** Folds one event in; returns a finished batch when the event ended one. */
  apply(event: RolloutEvent, now: number): FinishedBatch | undefined {
    switch (event.type) {
      case 'rollout:start':
        this.runId = event.runId
        this.ref = event.ref
        this.resumed = event.resumed
        this.startedAt = now
        break
      case 'plan':
        this.runId = event.runId
        this.version = event.artifact.version
        this.batchTotal = event.batches.length
        event.batches.forEach((targets, batch) => {
          for (const target of targets) {
            if (!this.targets.has(target.id)) this.targets.set(target.id, { target, batch, phase: 'pending', since: now })
          }
        })
        break
      case 'batch:start':
        this.batch = event.index
        this.batchTotal = event.total
        // A resumed run plans every batch but starts at the interrupted one, without the
        // targets that had finished: those were dealt with by the run that was interrupted.
        for (const view of this.targets.values()) {
          if (view.phase === 'pending' && (view.batch < event.index || (view.batch === event.index && !event.targets.some((t) => t.id === view.target.id)))) {
            this.move(view, 'earlier run', now)
          }
        }
        this.gate = undefined
        // Each target's phase comes from its own events (`target:precheck`, `target:detaching`, ...).
        this.current = event.targets.map((target) => this.view(target, event.index, now))
        this.#batches.set(event.index, { startedAt: now, targets: this.current })
        break
      case 'target:skipped':
        this.finish(this.view(event.target, event.batch, now), 'skipped', now, event.reason)
        break
      case 'fleet:check':
        this.gate = { batch: event.batch, targets: event.targets.length, since: now }
        break
      case 'fleet:unhealthy':
        // The rollout halts: the failing targets are said above the region (index.ts).
        this.gate = undefined
        break
      case 'target:precheck':
        this.move(this.view(event.target, event.batch, now), 'pre-check', now)
        break
      case 'target:detaching':
        this.move(this.view(event.target, event.batch, now), 'detaching', now)
        break
      case 'target:detached':
        this.move(this.view(event.target, event.batch, now), 'detached', now)
        break
      case 'target:holding':
        this.move(this.view(event.target, event.batch, now), 'holding', now)
        break
      case 'target:deploying':
        this.move(this.view(event.target, event.batch, now), 'deploying', now)
        break
      case 'target:deployed':
        this.move(this.view(event.target, event.batch, now), 'settling', now)
        break
      case 'target:healthy':
        this.move(this.view(event.target, event.batch, now), 'healthy', now)
        break
      case 'target:unhealthy': {
        const view = this.view(event.target, event.batch, now)
        this.move(view, 'unhealthy', now)
        view.reason = event.reason
        break
      }
      case 'target:attached': {
        const view = this.view(event.target, event.batch, now)
        // An unhealthy target attached again was rolled back; `target:rolled-back` follows.
        if (view.phase !== 'unhealthy') this.finish(view, 'done', now)
        break
      }
      case 'target:attaching':
        this.move(this.view(event.target, event.batch, now), 'attaching', now)
        break
      case 'target:rolling-back':
        break // shown as unhealthy until it is rolled back or fails
      case 'target:rolled-back':
        this.finish(this.view(event.target, event.batch, now), 'rolled back', now)
        break
      case 'target:failed': {
        const view = this.view(event.target, event.batch, now)
        view.failedIn = event.phase
        this.finish(view, 'failed', now, event.reason)
        break
      }
      case 'target:output':
        this.addOutput(event.target.id, event.chunk)
        break
      case 'batch:end': {
        const started = this.#batches.get(event.index)
        const durationMs = now - (started?.startedAt ?? now)
        this.batchDurations.push(durationMs)
        this.#lastEnded = Math.max(this.#lastEnded, event.index)
        const targets = started?.targets ?? [...this.targets.values()].filter((t) => t.batch === event.index)
        // The engine's word on each target is final: `unverified`, `restored` have no event of their own.
        for (const view of targets) {
          const outcome = event.outcomes[view.target.id]
          if (outcome !== undefined && outcome !== 'pending') this.move(view, OUTCOME_PHASE[outcome], now)
        }
        return { index: event.index, total: event.total, durationMs, targets }
      }
      case 'verify:start':
        this.verifying = event.targets.length
        this.gate = undefined
        this.current = []
        break
      case 'target:stopped':
        this.finish(this.view(event.target, -1, now), 'stopped', now, event.reason)
        break
      case 'gate:start':
        this.watching = { gate: event.gate, batch: event.batch, total: event.total, final: event.final, since: now }
        break
      case 'gate:end':
        this.watching = undefined
        break
      case 'pause:start':
        this.paused = {
          index: event.index,
          total: event.total,
          until: event.until,
          onTimeout: event.onTimeout,
          since: now,
          ...(event.control ? { control: event.control } : {}),
        }
        break
      case 'pause:end':
        this.paused = undefined
        break
      case 'budget:spent':
      case 'verify:mismatch':
      case 'rollout:end':
      case 'warning':
      case 'log':
      case 'listener:error':
        break // printed by the reporter, or in the summary
      default:
        event satisfies never
    }
    return undefined
  }

  /** Targets counted by the progress bar: all planned, and any verify found. */
  get total(): number {
    return this.targets.size
  }

  get finished(): number {
    let n = 0
    for (const t of this.targets.values()) if (FINISHED.has(t.phase)) n++
    return n
  }

  /**
   * Milliseconds left, from the mean duration of the batches ended so far (undefined
   * until one ended): what the running batch has left of the mean, plus the mean for
   * each batch after it. A batch running late counts as nearly done, as most bars do.
   */
  eta(now: number): number | undefined {
    if (this.batchDurations.length === 0 || this.batchTotal === 0) return undefined
    const mean = this.batchDurations.reduce((a, b) => a + b, 0) / this.batchDurations.length
    const running = this.#batches.get(this.batch)
    if (this.batch <= this.#lastEnded || !running) return Math.max(0, (this.batchTotal - this.#lastEnded - 1) * mean)
    return Math.max(0, mean - (now - running.startedAt)) + (this.batchTotal - this.batch - 1) * mean
  }

  /** The last `n` complete or partial lines a target printed. */
  output(id: string, n: number): string[] {
    const kept = this.#output.get(id)
    if (!kept) return []
    const lines = kept.partial ? [...kept.lines, kept.partial] : kept.lines
    return lines.slice(-n)
  }

  #counts(): Map<ViewPhase, number> {
    const counts = new Map<ViewPhase, number>()
    for (const t of this.targets.values()) counts.set(t.phase, (counts.get(t.phase) ?? 0) + 1)
    return counts
  }

  /** How many targets are in each phase, outside the running batch. */
  others(): Map<ViewPhase, number> {
    const counts = this.#counts()
    for (const t of this.current) counts.set(t.phase, (counts.get(t.phase) ?? 1) - 1)
    return counts
  }

  private view(target: Target, batch: number, now: number): TargetView {
    let view = this.targets.get(target.id)
    if (!view) {
      view = { target, batch, phase: 'pending', since: now }
      this.targets.set(target.id, view)
    }
    return view
  }

  private move(view: TargetView, phase: ViewPhase, now: number): void {
    if (view.phase === phase) return
    view.phase = phase
    view.since = now
  }

  private finish(view: TargetView, phase: ViewPhase, now: number, reason?: string): void {
    this.move(view, phase, now)
    if (reason !== undefined) view.reason = reason
    if ((phase === 'failed' || phase === 'stopped') && !this.failures.includes(view)) this.failures.push(view)
  }

  private addOutput(id: string, chunk: string): void {
    let kept = this.#output.get(id)
    if (!kept) {
      kept = { lines: [], partial: '' }
      this.#output.set(id, kept)
    }
    const parts = (kept.partial + chunk).split(/\r?\n/)
    // A host printing without newlines (a progress meter) must not grow memory forever.
    kept.partial = (parts.pop() ?? '').slice(-MAX_PARTIAL)
    for (const line of parts) kept.lines.push(line)
    if (kept.lines.length > KEEP_LINES) kept.lines.splice(0, kept.lines.length - KEEP_LINES)
  }
}

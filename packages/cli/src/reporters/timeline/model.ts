// The timeline of a rollout: for each target, a bar per phase it went through (start, end,
// how it ended), and when each batch ran. Built from the events as they arrive (the core's
// PhaseTracker says where phases start and end; the time is the reporter's clock) or from
// a journal's time-stamped records (`rolling status --summary`). Drawn by mermaid.ts and text.ts.
import { type Phase, type PhaseEnd, PhaseTracker, type RolloutEvent } from '@org/rolling-core'

export interface TimelineBar {
  phase: Phase
  /** Epoch milliseconds. */
  start: number
  end: number
  /** How the phase ended: `failed` bars are the ones to look at. */
  how: PhaseEnd
}

export interface TimelineRow {
  id: string
  /** Batch index, or -1 for a target found by the verify phase. */
  batch: number
  bars: TimelineBar[]
}

export interface TimelineBatch {
  index: number
  start: number
  end: number
}

export interface Timeline {
  start: number
  end: number
  batches: TimelineBatch[]
  /** In the order the targets were first seen (plan order within a batch). */
  rows: TimelineRow[]
}

/** Collects bars; the one place that opens and closes them, for both sources. */
export class TimelineBuilder {
  readonly #rows = new Map<string, TimelineRow>()
  readonly #open = new Map<string, { phase: Phase; start: number }>()
  readonly #batches = new Map<number, TimelineBatch>()
  #start: number | undefined
  #end: number | undefined

  /** The run's start and end; without them the chart spans the bars. */
  span(at: number, which: 'start' | 'end'): void {
    if (which === 'start') this.#start ??= at
    else this.#end = at
  }

  /** A batch starts (a resumed run starts its batch again: the first start stands) or goes on. */
  batch(index: number, at: number): void {
    const known = this.#batches.get(index)
    if (known) known.end = Math.max(known.end, at)
    else this.#batches.set(index, { index, start: at, end: at })
  }

  open(id: string, batch: number, phase: Phase, at: number): void {
    this.close(id, 'ok', at)
    this.#row(id, batch)
    this.#open.set(id, { phase, start: at })
  }

  /** Ends the target's open phase; false when none was open. */
  close(id: string, how: PhaseEnd, at: number): boolean {
    const open = this.#open.get(id)
    if (!open) return false
    this.#open.delete(id)
    const row = this.#rows.get(id) as TimelineRow
    row.bars.push({ phase: open.phase, start: open.start, end: Math.max(open.start, at), how })
    if (row.batch >= 0) this.batch(row.batch, at)
    return true
  }

  isOpen(id: string): boolean {
    return this.#open.has(id)
  }

  /** A bar for a phase whose start is not known (it starts and ends at `at`). */
  mark(id: string, batch: number, phase: Phase, how: PhaseEnd, at: number): void {
    this.#row(id, batch).bars.push({ phase, start: at, end: at, how })
  }

  /** Marks the last bar of a target as failed (a failure recorded after its phase closed). */
  failLast(id: string): void {
    const last = this.#rows.get(id)?.bars.at(-1)
    if (last) last.how = 'failed'
  }

  /** The timeline so far; phases still open end at `at` (cut). Undefined when no target has a bar. */
  build(at: number): Timeline | undefined {
    for (const id of [...this.#open.keys()]) this.close(id, 'cut', at)
    const rows = [...this.#rows.values()].filter((r) => r.bars.length > 0)
    if (rows.length === 0) return undefined
    const times = rows.flatMap((r) => r.bars.flatMap((b) => [b.start, b.end]))
    const start = Math.min(this.#start ?? Number.POSITIVE_INFINITY, ...times)
    const end = Math.max(this.#end ?? 0, ...times)
    const batches = [...this.#batches.values()].sort((a, b) => a.index - b.index)
    return { start, end, batches, rows }
  }

  #row(id: string, batch: number): TimelineRow {
    let row = this.#rows.get(id)
    if (!row) {
      row = { id, batch, bars: [] }
      this.#rows.set(id, row)
    }
    return row
  }
}

/** Folds a run's events, stamped with the reporter's clock, into its timeline. */
export class TimelineRecorder {
  readonly #tracker = new PhaseTracker()
  readonly #builder = new TimelineBuilder()

  apply(event: RolloutEvent, now: number): void {
    if (event.type === 'rollout:start') this.#builder.span(now, 'start')
    else if (event.type === 'batch:start' || event.type === 'batch:end') this.#builder.batch(event.index, now)
    for (const change of this.#tracker.apply(event)) {
      const id = change.target.id
      if (change.kind === 'start') this.#builder.open(id, change.batch, change.phase, now)
      else this.#builder.close(id, change.end, now)
    }
    if (event.type === 'rollout:end') this.#builder.span(now, 'end')
  }

  timeline(now: number): Timeline | undefined {
    return this.#builder.build(now)
  }
}

/** Rows to draw: all of them, or the failed ones first and then the rest in order, up to `max`. */
export function pickRows(rows: readonly TimelineRow[], max: number): TimelineRow[] {
  if (rows.length <= max) return [...rows]
  const failed = rows.filter((r) => r.bars.some((b) => b.how === 'failed'))
  const keep = new Set(failed.slice(0, max))
  for (const r of rows) {
    if (keep.size >= max) break
    keep.add(r)
  }
  return rows.filter((r) => keep.has(r))
}

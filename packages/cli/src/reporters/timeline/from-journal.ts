// The timeline of a run as its journal tells it (`rolling status --summary`): each target
// transition is stamped with the time it was written (`at`), and a state names the phase
// that starts there. Coarser than the events: pre-check runs from the batch's start to the
// detach, and settle until the batch's attach (the journal records no `healthy`).
import type { JournalRun, Phase, RecordedState } from '@org/rolling-core'
import { type Timeline, TimelineBuilder } from './model.js'

/** The phase a state starts; final states end the open one. */
const STARTS: Partial<Record<RecordedState, Phase>> = {
  detaching: 'detach',
  deploying: 'deploy',
  deployed: 'settle',
  'rolling-back': 'rollback',
  attaching: 'attach',
  holding: 'hold',
  ejecting: 'gate',
  stopping: 'stop',
}

/** Undefined when the journal holds no time-stamped transition (written before they were). */
export function timelineFromJournal(run: JournalRun): Timeline | undefined {
  const b = new TimelineBuilder()
  const startedAt = Date.parse(run.start.at)
  if (!Number.isNaN(startedAt)) b.span(startedAt, 'start')
  const batchOf = new Map<number, number>()
  run.batches.forEach((batch, k) => {
    for (const i of batch) batchOf.set(i, k)
  })
  const batchStart = new Map<number, number>()
  let last = Number.isNaN(startedAt) ? 0 : startedAt
  for (const record of run.records) {
    if (record.type === 'batch' && record.at !== undefined) {
      if (!batchStart.has(record.i)) batchStart.set(record.i, record.at)
      b.batch(record.i, record.at)
    }
    if ((record.type !== 't' && record.type !== 'v') || record.at === undefined) continue
    const at = record.at
    last = Math.max(last, at)
    const [id, batch] = record.type === 't' ? [run.targets[record.i]?.id as string, batchOf.get(record.i) ?? -1] : [record.target.id, -1]
    const from = batchStart.get(batch)
    // Nothing is recorded for the pre-check: it is the time from the batch's start to the first step.
    if (!b.isOpen(id) && from !== undefined && (record.s === 'detaching' || record.s === 'skipped')) b.open(id, batch, 'precheck', from)
    const phase = STARTS[record.s]
    if (phase === 'rollback') b.close(id, 'failed', at) // the settle failed
    if (phase !== undefined) {
      b.open(id, batch, phase, at)
      continue
    }
    if (record.s === 'detached') b.close(id, 'ok', at)
    else if (record.s === 'skipped') b.close(id, 'skipped', at)
    else if (record.s === 'failed' || record.s === 'stopped') {
      if (!b.close(id, 'failed', at)) b.failLast(id)
    } else b.close(id, 'ok', at) // done, unverified, rolled-back, restored
  }
  const end = run.end ? Date.parse(run.end.at) : Number.NaN
  if (!Number.isNaN(end)) b.span(end, 'end')
  return b.build(Number.isNaN(end) ? last : end)
}

// What a journal says about the last rollout of a service: its run, build, batches, the
// last state of each target, and whether `resume` is needed. Pure: records in, summary out;
// the records are checked by the core's journal reader, the one `resume` uses.
import { FINAL_STATES, OUT_OF_SERVICE, type RolloutStatus, type Target, openPause, readJournal } from '@org/rolling-core'

export interface TargetStatus {
  id: string
  address: string
  port?: number
  /** Last recorded state; `pending` when none was. */
  state: string
  /** Batch number from 1; 0 for a target first seen by the verify phase. */
  batch: number
}

export interface JournalStatus {
  /** Waiting after a batch for `rolling approve` (1-based batch), since and until when. */
  paused?: { afterBatch: number; since: string; until: string }
  /** `none`: nothing recorded; `interrupted`: started, never ended (resume it). */
  state: 'none' | 'interrupted' | RolloutStatus
  resumeNeeded: boolean
  runId?: string
  ref?: string
  version?: string
  builtAt?: string
  startedAt?: string
  endedAt?: string
  /** Batches whose every target reached a final state (done, skipped, failed, ...). */
  batches: { total: number; finished: number; inProgress?: number }
  targets: TargetStatus[]
  /** Interrupted mid-step: detached from the load balancer, not yet back. */
  outOfService: TargetStatus[]
  /** The CLI stopped the run on an error no adapter handled (its last resort). */
  stopped?: { reason: string; at: string }
  /** Failed: left out of the load balancer for a person to look at. */
  needsAttention: TargetStatus[]
  verifying: boolean
}

/** The status of a journal's records, read through the core's one journal reader (which refuses impossible records). */
export function journalStatus(records: readonly unknown[], location: string): JournalStatus {
  const run = readJournal(records, location)
  if (!run) {
    return { state: 'none', resumeNeeded: false, batches: { total: 0, finished: 0 }, targets: [], outOfService: [], needsAttention: [], verifying: false }
  }
  const { batches, states, end, stopped } = run
  const batchOf = new Map<number, number>()
  batches.forEach((batch, b) => {
    for (const i of batch) batchOf.set(i, b + 1)
  })
  const statuses: TargetStatus[] = run.targets.map((target, i) => ({ ...pick(target), state: states.get(i)?.s ?? 'pending', batch: batchOf.get(i) ?? 0 }))
  for (const { target, s } of run.extra.values()) statuses.push({ ...pick(target), state: s, batch: 0 })

  const isFinal = (i: number) => FINAL_STATES.has(states.get(i)?.s ?? '')
  const finished = batches.filter((batch) => batch.every(isFinal)).length
  const inProgress = !end && run.batch >= 0 && !(batches[run.batch] ?? []).every(isFinal) ? run.batch + 1 : undefined
  const status: JournalStatus = {
    state: end ? end.status : 'interrupted',
    resumeNeeded: !end,
    runId: run.runId,
    ref: run.ref,
    version: run.artifact.version,
    builtAt: run.artifact.builtAt,
    startedAt: run.start.at,
    batches: { total: batches.length, finished, ...(inProgress === undefined ? {} : { inProgress }) },
    targets: statuses,
    outOfService: statuses.filter((t) => OUT_OF_SERVICE.has(t.state)),
    ...(stopped && !end ? { stopped: { reason: stopped.reason, at: stopped.at } } : {}),
    needsAttention: statuses.filter((t) => t.state === 'failed'),
    verifying: run.verifying,
  }
  if (end) status.endedAt = end.at
  // Paused between batches (the `pause` option): what `rolling approve` / `rolling abort` act on.
  const paused = end ? undefined : openPause(run.records)
  if (paused) status.paused = { afterBatch: paused.index + 1, since: paused.at, until: paused.until }
  return status
}

function pick(target: Target): Pick<TargetStatus, 'id' | 'address' | 'port'> {
  return target.port === undefined ? { id: target.id, address: target.address } : { id: target.id, address: target.address, port: target.port }
}

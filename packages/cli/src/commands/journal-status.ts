// What a journal says about the last rollout of a service: its run, build, batches, the
// last state of each target, and whether `resume` is needed. Pure: records in, summary out.
import type { JournalRecord, Target } from '@org/rolling-core'

/** States after which nothing more happens to a target in its run. */
const FINAL = new Set(['skipped', 'done', 'failed', 'rolled-back', 'restored', 'stopped'])
/** States of a target taken out of the load balancer and not yet back or finished. */
const MID_STEP = new Set(['detaching', 'detached', 'deploying', 'deployed', 'rolling-back', 'attaching', 'stopping'])

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
  /** `none`: nothing recorded; `interrupted`: started, never ended (resume it). */
  state: 'none' | 'interrupted' | 'succeeded' | 'halted' | 'failed' | 'aborted'
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

export function journalStatus(records: readonly JournalRecord[]): JournalStatus {
  const start = records[0]
  if (start?.type !== 'start') {
    return { state: 'none', resumeNeeded: false, batches: { total: 0, finished: 0 }, targets: [], outOfService: [], needsAttention: [], verifying: false }
  }
  const targets = (start.targets as Target[] | undefined) ?? []
  const batches = (start.batches as number[][] | undefined) ?? []
  const artifact = start.artifact as { version?: string; builtAt?: string } | undefined
  const states = new Map<number, string>()
  const extra = new Map<string, { target: Target; state: string }>()
  let inFlight = -1
  let verifying = false
  let end: JournalRecord | undefined
  let stopped: { reason: string; at: string } | undefined
  for (const record of records) {
    if (record.type === 't') states.set(record.i as number, record.s as string)
    else if (record.type === 'v') {
      const target = record.target as Target
      extra.set(target.id, { target, state: record.s as string })
    } else if (record.type === 'batch') inFlight = record.i as number
    else if (record.type === 'verify') verifying = true
    else if (record.type === 'end') end = record
    // Journalled by the CLI's last resort; a resumed run appends after it.
    else if (record.type === 'stop') stopped = { reason: String(record.reason), at: String(record.at) }
  }
  const batchOf = new Map<number, number>()
  batches.forEach((batch, b) => {
    for (const i of batch) batchOf.set(i, b + 1)
  })
  const statuses: TargetStatus[] = targets.map((target, i) => ({ ...pick(target), state: states.get(i) ?? 'pending', batch: batchOf.get(i) ?? 0 }))
  for (const { target, state } of extra.values()) statuses.push({ ...pick(target), state, batch: 0 })

  const finished = batches.filter((batch) => batch.every((i) => FINAL.has(states.get(i) ?? ''))).length
  const inProgress = !end && inFlight >= 0 && !(batches[inFlight] ?? []).every((i) => FINAL.has(states.get(i) ?? '')) ? inFlight + 1 : undefined
  const status: JournalStatus = {
    state: end ? (end.status as JournalStatus['state']) : 'interrupted',
    resumeNeeded: !end,
    runId: start.runId as string,
    ref: start.ref as string,
    batches: { total: batches.length, finished, ...(inProgress === undefined ? {} : { inProgress }) },
    targets: statuses,
    outOfService: statuses.filter((t) => MID_STEP.has(t.state)),
    ...(stopped && !end ? { stopped } : {}),
    needsAttention: statuses.filter((t) => t.state === 'failed'),
    verifying,
  }
  if (artifact?.version !== undefined) status.version = artifact.version
  if (artifact?.builtAt !== undefined) status.builtAt = artifact.builtAt
  if (typeof start.at === 'string') status.startedAt = start.at
  if (end && typeof end.at === 'string') status.endedAt = end.at
  return status
}

function pick(target: Target): Pick<TargetStatus, 'id' | 'address' | 'port'> {
  return target.port === undefined ? { id: target.id, address: target.address } : { id: target.id, address: target.address, port: target.port }
}

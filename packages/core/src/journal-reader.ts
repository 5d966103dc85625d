// The one reader of a rollout journal, for `resume` and for the CLI's `status`: each record
// checked (journal-records.ts), then replayed through the per-target state machine the
// engine's phases write. A record the engine could not have written is refused with its
// line, so a hand-edited `done` cannot make resume skip a target that is out of service.
import type { ExcludedTarget, Target, Artifact } from './types.js'
import type { AttachAs } from './phases/flight.js'
import { type EndRecord, type JournalRecord, type RecordedState, type StartRecord, type StopRecord, BadRecord, decodeRecord } from './journal-records.js'
import { RollingError } from './errors.js'

type From = RecordedState | 'none'

/**
 * Where each state may go next, as the phases write it (a resumed step writes its own state
 * again: `deploying` -> `deploying`). Final states leave only through the verify phase
 * (`stopping` a target on the wrong build, `done` for a confirmed `unverified`) or an eject
 * (`ejecting` a target that failed a fleet check or its hold).
 */
export const TRANSITIONS: Readonly<Record<From, readonly RecordedState[]>> = {
  // precheck/prepare skip, detach, verify stopping a target no batch reached
  none: ['skipped', 'detaching', 'stopping'],
  // detach.ts: foreign (skipped), undrained or restored (attaching), failed restore
  detaching: ['detaching', 'detached', 'skipped', 'attaching', 'failed'],
  // batch.ts deployAll; an abort before the deploy restores (attaching) or fails it
  detached: ['detaching', 'deploying', 'attaching', 'failed'],
  deploying: ['deploying', 'deployed', 'failed', 'rolling-back', 'attaching'],
  deployed: ['attaching', 'failed', 'rolling-back'],
  'rolling-back': ['rolling-back', 'attaching', 'failed'],
  // attach.ts: held, failed attach, or the outcome it was attached as
  attaching: ['attaching', 'holding', 'failed', 'done', 'unverified', 'rolled-back', 'restored', 'skipped'],
  holding: ['done', 'unverified', 'rolled-back', 'ejecting'],
  ejecting: ['ejecting', 'failed'],
  stopping: ['stopping', 'stopped', 'failed'],
  // phases/gate.ts: a failed gate with onFailure 'rollback' rolls the last batch back
  done: ['ejecting', 'stopping', 'rolling-back'],
  unverified: ['done', 'ejecting', 'stopping', 'rolling-back'],
  'rolled-back': ['ejecting', 'stopping'],
  restored: ['ejecting', 'stopping'],
  skipped: ['stopping'],
  failed: ['stopping'],
  stopped: [],
}

/** A run as its journal tells it. */
export interface JournalRun {
  start: StartRecord
  runId: string
  ref: string
  artifact: Artifact
  targets: Target[]
  batches: number[][]
  /** Targets an operator had taken out when the run began. */
  excluded: ExcludedTarget[]
  /** Last recorded state (and intended outcome) of each target, by plan position. */
  states: Map<number, { s: RecordedState; o?: AttachAs }>
  /** Targets first seen by verify, by id, with their last state. */
  extra: Map<string, { target: Target; s: RecordedState }>
  /** Index of the batch in flight, -1 when none had started. */
  batch: number
  verifying: boolean
  /** Every record, checked, in order (pause and release included). */
  records: JournalRecord[]
  end?: EndRecord
  /** The last stop by the CLI's last resort, if one came after the last resume. */
  stopped?: StopRecord
}

/**
 * Checks and replays the records a journal read back; undefined when it holds none.
 * Throws a JOURNAL error naming `location:line` of the first impossible record.
 */
export function readJournal(stored: readonly unknown[], location: string): JournalRun | undefined {
  if (stored.length === 0) return undefined
  let run: JournalRun | undefined
  for (const [k, value] of stored.entries()) {
    const refuse = (message: string): never => {
      throw new RollingError('JOURNAL', `[rolling] journal ${location}:${k + 1}: ${message}`)
    }
    let record: JournalRecord
    try {
      record = decodeRecord(value)
    } catch (error) {
      if (error instanceof BadRecord) refuse(`invalid ${recordType(value)}record: ${error.message}`)
      throw error
    }
    if (!run) {
      if (record.type !== 'start') refuse(`the first record must be a start record, not ${record.type}`)
      const start = record as StartRecord
      run = {
        start,
        runId: start.runId,
        ref: start.ref,
        artifact: start.artifact,
        targets: start.targets,
        batches: start.batches,
        excluded: start.excluded ?? [],
        states: new Map(),
        extra: new Map(),
        batch: -1,
        verifying: false,
        records: [record],
      }
      continue
    }
    if (run.end) refuse(`a ${record.type} record after the run's end record`)
    replay(run, record, refuse)
    run.records.push(record)
  }
  return run
}

function replay(run: JournalRun, record: JournalRecord, refuse: (message: string) => never): void {
  const batches = run.batches.length
  switch (record.type) {
    case 'start':
      refuse('a second start record')
      return
    case 'batch':
      if (record.i >= batches) refuse(`batch index ${record.i} is out of range: the plan has ${batches} batch(es)`)
      // A batch starts after the previous one, or again when resumed.
      if (record.i !== run.batch && record.i !== run.batch + 1) refuse(`batch ${record.i} starts after batch ${run.batch}`)
      if (run.verifying) refuse(`batch ${record.i} starts after the verify phase`)
      run.batch = record.i
      return
    case 't': {
      const target = run.targets[record.i]
      if (!target) throw refuse(`target position ${record.i} is out of range: the plan has ${run.targets.length} target(s)`)
      const inBatch = run.batches.findIndex((b) => b.includes(record.i))
      if (inBatch > run.batch && !run.verifying)
        refuse(`${target.id} is in batch ${inBatch}, which has not started (batch ${run.batch} is the last one started)`)
      const from = run.states.get(record.i)?.s ?? 'none'
      step(target.id, from, record.s, refuse)
      run.states.set(record.i, record.o === undefined ? { s: record.s } : { s: record.s, o: record.o })
      return
    }
    case 'v': {
      if (!run.verifying) refuse(`${record.target.id} is recorded as seen by verify before the verify phase`)
      if (run.targets.some((t) => t.id === record.target.id)) refuse(`${record.target.id} is a planned target, recorded as one found by verify`)
      step(record.target.id, run.extra.get(record.target.id)?.s ?? 'none', record.s, refuse)
      run.extra.set(record.target.id, { target: record.target, s: record.s })
      return
    }
    case 'verify':
      if (run.batch !== batches - 1) refuse(`verify starts with batch ${run.batch + 1} of ${batches} last started`)
      run.verifying = true
      return
    case 'pause':
    case 'release':
    case 'gate':
      if (record.i >= batches) refuse(`batch index ${record.i} is out of range: the plan has ${batches} batch(es)`)
      return
    case 'end':
      run.end = record
      return
    case 'stop':
      run.stopped = record
      return
  }
}

function step(id: string, from: From, to: RecordedState, refuse: (message: string) => never): void {
  if (!TRANSITIONS[from].includes(to)) {
    const allowed = TRANSITIONS[from]
    refuse(`${id} cannot go from ${from === 'none' ? 'no state' : from} to ${to} (${allowed.length > 0 ? `only to ${allowed.join(', ')}` : 'it is final'})`)
  }
}

function recordType(value: unknown): string {
  const type = (value as { type?: unknown } | null)?.type
  return typeof type === 'string' && type.length <= 20 ? `\`${type}\` ` : ''
}

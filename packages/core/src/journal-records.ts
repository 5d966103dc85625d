// The records of a rollout journal, as one discriminated union, and the check of each one
// read back: a journal is a file anyone may have edited, so nothing in it is trusted until
// it has the shape the engine writes.
import type { Artifact, ExcludedTarget, Target } from './types.js'
import type { RolloutStatus } from './result.js'
import type { AttachAs } from './phases/flight.js'
import { TARGET_STATES, type TargetState } from './target-state.js'

/** A state the engine records (`pending` is only the absence of one). */
export type RecordedState = Exclude<TargetState, 'pending'>

/** The first record of a run: its plan (targets, and batches as plan positions) and its build. */
export type StartRecord = {
  type: 'start'
  runId: string
  service: string
  ref: string
  at: string
  artifact: Artifact
  targets: Target[]
  /** Each batch as positions in `targets`. */
  batches: number[][]
  excluded?: ExcludedTarget[]
}
// `at` on the records below: epoch ms of the engine's clock when written, for the timeline
// of `rolling status --summary`; journals written before it was added have none.
/** Batch `i` (0-based) starts (again, when resumed). */
export type BatchRecord = { type: 'batch'; i: number; at?: number }
/** A transition of the planned target at position `i`; `o`: the outcome it is attached (held) as. */
export type TargetRecord = { type: 't'; i: number; s: RecordedState; o?: AttachAs; at?: number }
/** A transition of a target first seen by the verify phase (not in the plan). */
export type ExtraRecord = { type: 'v'; target: Target; s: RecordedState; at?: number }
export type VerifyRecord = { type: 'verify'; at?: number }
/** A pause after batch `i`, until approved or `until`. */
export type PauseRecord = { type: 'pause'; i: number; at: string; until: string }
export type ReleaseRecord = { type: 'release'; i: number; how: string; at: string; by?: string; note?: string }
/** A gate's verdict after batch `i` (or at the end: `final`), for the audit trail; a resumed run asks its gates again. */
export type GateRecord = { type: 'gate'; i: number; gate: string; passed: boolean; detail: string; at: string; final?: true }
export type EndRecord = { type: 'end'; status: RolloutStatus; at: string }
/** Written by the CLI's last resort when an error escaped every adapter: the run is not over; `resume` goes on after it. */
export type StopRecord = { type: 'stop'; reason: string; at: string }

export type JournalRecord =
  | StartRecord
  | BatchRecord
  | TargetRecord
  | ExtraRecord
  | VerifyRecord
  | PauseRecord
  | ReleaseRecord
  | GateRecord
  | EndRecord
  | StopRecord

/** What a journal stores: JSON objects with a `type`. A rollout's are `JournalRecord`s. */
export type StoredRecord = { type: string; [key: string]: unknown }

const ATTACH_AS = ['done', 'unverified', 'rolled-back', 'restored', 'skipped'] as const satisfies readonly AttachAs[]
const STATUSES = ['succeeded', 'degraded', 'halted', 'failed', 'aborted'] as const satisfies readonly RolloutStatus[]

// Fail to compile when a state, an outcome or a status is added without its entry here.
type Missing<T, K> = [Exclude<T, K>] extends [never] ? true : Exclude<T, K>
const complete: [
  Missing<RecordedState, (typeof TARGET_STATES)[number]>,
  Missing<AttachAs, (typeof ATTACH_AS)[number]>,
  Missing<RolloutStatus, (typeof STATUSES)[number]>,
] = [true, true, true]
void complete

/** Thrown (as a JOURNAL error by the reader) with what is wrong in one record. */
export class BadRecord extends Error {}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const bad = (message: string): never => {
  throw new BadRecord(message)
}
const str = (r: Obj, key: string, what = 'a string'): string =>
  typeof r[key] === 'string' && r[key] !== '' ? (r[key] as string) : bad(`\`${key}\` is not ${what}: ${shown(r[key])}`)
const index = (r: Obj, key: string): number =>
  Number.isInteger(r[key]) && (r[key] as number) >= 0 ? (r[key] as number) : bad(`\`${key}\` is not an index: ${shown(r[key])}`)
const oneOf = <T extends string>(r: Obj, key: string, list: readonly T[]): T =>
  (list as readonly unknown[]).includes(r[key]) ? (r[key] as T) : bad(`\`${key}\` is not one of ${list.join(', ')}: ${shown(r[key])}`)

function shown(v: unknown): string {
  const text = v === undefined ? 'missing' : JSON.stringify(v)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function target(v: unknown, where: string): Target {
  if (!isObj(v)) return bad(`${where} is not a target: ${shown(v)}`)
  const t: Target = { id: str(v, 'id'), address: str(v, 'address') }
  if (v.port !== undefined) {
    if (!Number.isInteger(v.port) || (v.port as number) < 1 || (v.port as number) > 65535) bad(`${where}.port is not a port: ${shown(v.port)}`)
    t.port = v.port as number
  }
  if (v.labels !== undefined) {
    if (!isObj(v.labels) || Object.values(v.labels).some((l) => typeof l !== 'string')) bad(`${where}.labels is not a map of strings: ${shown(v.labels)}`)
    t.labels = v.labels as Record<string, string>
  }
  return t
}

function artifact(v: unknown): Artifact {
  if (!isObj(v)) return bad(`\`artifact\` is not a build: ${shown(v)}`)
  for (const key of ['version', 'builtAt', 'sha256']) str(v, key)
  if (!Number.isInteger(v.size) || (v.size as number) < 0) bad(`\`artifact.size\` is not a size: ${shown(v.size)}`)
  return v as unknown as Artifact
}

function start(r: Obj): StartRecord {
  const record: StartRecord = {
    type: 'start',
    runId: str(r, 'runId'),
    service: str(r, 'service'),
    ref: str(r, 'ref'),
    at: str(r, 'at'),
    artifact: artifact(r.artifact),
    targets: [],
    batches: [],
  }
  if (!Array.isArray(r.targets) || r.targets.length === 0) bad(`\`targets\` is not a non-empty list: ${shown(r.targets)}`)
  record.targets = (r.targets as unknown[]).map((t, k) => target(t, `targets[${k}]`))
  const ids = new Set(record.targets.map((t) => t.id))
  if (ids.size !== record.targets.length) bad('`targets` lists a target id twice')
  if (!Array.isArray(r.batches) || r.batches.length === 0) bad(`\`batches\` is not a non-empty list: ${shown(r.batches)}`)
  const seen = new Set<number>()
  record.batches = (r.batches as unknown[]).map((batch, b) => {
    if (!Array.isArray(batch) || batch.length === 0) return bad(`\`batches[${b}]\` is not a non-empty list of positions: ${shown(batch)}`)
    return batch.map((i: unknown) => {
      if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= record.targets.length)
        bad(`\`batches[${b}]\` holds ${shown(i)}, not a position in \`targets\` (0 to ${record.targets.length - 1})`)
      if (seen.has(i as number)) bad(`\`batches\` holds position ${i} twice`)
      seen.add(i as number)
      return i as number
    })
  })
  if (seen.size !== record.targets.length) bad(`\`batches\` leaves out ${record.targets.length - seen.size} of the targets`)
  if (r.excluded !== undefined) {
    if (!Array.isArray(r.excluded)) bad(`\`excluded\` is not a list: ${shown(r.excluded)}`)
    record.excluded = (r.excluded as unknown[]).map((e, k) =>
      isObj(e)
        ? { target: target(e.target, `excluded[${k}].target`), reason: str(e, 'reason') }
        : bad(`\`excluded[${k}]\` is not an excluded target: ${shown(e)}`),
    )
  }
  return record
}

/** Copies the optional `at` (epoch ms) onto `record` once checked. */
function stamped<R extends { at?: number }>(r: Obj, record: R): R {
  if (r.at === undefined) return record
  if (typeof r.at !== 'number' || !Number.isFinite(r.at) || r.at < 0) bad(`\`at\` is not a time in ms: ${shown(r.at)}`)
  record.at = r.at as number
  return record
}

/** Checks one record read back; throws BadRecord saying what is wrong. */
export function decodeRecord(value: unknown): JournalRecord {
  if (!isObj(value)) return bad(`not a record: ${shown(value)}`)
  switch (value.type) {
    case 'start':
      return start(value)
    case 'batch':
      return stamped<BatchRecord>(value, { type: 'batch', i: index(value, 'i') })
    case 't': {
      const record: TargetRecord = { type: 't', i: index(value, 'i'), s: oneOf(value, 's', TARGET_STATES) }
      if (value.o !== undefined) record.o = oneOf(value, 'o', ATTACH_AS)
      return stamped(value, record)
    }
    case 'v':
      return stamped<ExtraRecord>(value, { type: 'v', target: target(value.target, '`target`'), s: oneOf(value, 's', TARGET_STATES) })
    case 'verify':
      return stamped<VerifyRecord>(value, { type: 'verify' })
    case 'pause':
      return { type: 'pause', i: index(value, 'i'), at: str(value, 'at'), until: str(value, 'until') }
    case 'release': {
      const record: ReleaseRecord = { type: 'release', i: index(value, 'i'), how: str(value, 'how'), at: str(value, 'at') }
      if (value.by !== undefined) record.by = str(value, 'by')
      if (value.note !== undefined) record.note = str(value, 'note')
      return record
    }
    case 'gate': {
      if (typeof value.passed !== 'boolean') bad(`\`passed\` is not a boolean: ${shown(value.passed)}`)
      const record: GateRecord = {
        type: 'gate',
        i: index(value, 'i'),
        gate: str(value, 'gate'),
        passed: value.passed as boolean,
        detail: String(value.detail ?? ''),
        at: str(value, 'at'),
      }
      if (value.final === true) record.final = true
      return record
    }
    case 'end':
      return { type: 'end', status: oneOf(value, 'status', STATUSES), at: str(value, 'at') }
    case 'stop':
      return { type: 'stop', reason: str(value, 'reason'), at: str(value, 'at') }
    default:
      return bad(`unknown record type ${shown(value.type)}`)
  }
}

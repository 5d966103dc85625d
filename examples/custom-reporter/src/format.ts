// Turns a rollout's events into chat messages: one when a batch starts, one when it ends
// (with each target's outcome, and why for those not done), one when the rollout ends.
// Pure functions over the events, so the texts are easy to read and to test.
import type { RolloutEvent, RolloutStatus, Target, TargetOutcome } from '@org/rolling-core'

export interface ReporterMessage {
  kind: 'batch:start' | 'batch:end' | 'rollout:end'
  /** The chat text, e.g. `checkout v2: batch 1/4 ended: 2 done`. */
  text: string
  service: string
  /** The build being rolled out, once known. */
  version?: string
  /** Zero-based index and count, for batch messages. */
  batch?: { index: number; total: number }
  /** The final status, for `rollout:end`. */
  status?: RolloutStatus
}

export interface FormatOptions {
  /** Post when a batch starts, not only when it ends. @default true */
  batchStart?: boolean
  /** Target ids listed in one message before "and N more". @default 5 */
  maxTargets?: number
}

// Outcomes in the order a reader wants them summed up. A record, so that an outcome core adds
// fails to compile here until it has a place (a list missed `unverified`: "no targets").
const RANK = { done: 0, unverified: 1, 'rolled-back': 2, restored: 3, skipped: 4, failed: 5, stopped: 6, pending: 7 } satisfies Record<TargetOutcome, number>
const ORDER = (Object.keys(RANK) as TargetOutcome[]).sort((a, b) => RANK[a] - RANK[b])

/** A stateful formatter: it remembers the service, the build and why targets were skipped or failed. */
export function messageFormatter(options: FormatOptions = {}): (event: RolloutEvent) => ReporterMessage | undefined {
  const batchStart = options.batchStart ?? true
  const maxTargets = options.maxTargets ?? 5
  let service = ''
  let version: string | undefined
  const reasons = new Map<string, string>()
  const name = () => (version === undefined ? service : `${service} ${version}`)
  const base = () => ({ service, ...(version === undefined ? {} : { version }) })

  return (event) => {
    switch (event.type) {
      case 'rollout:start':
        service = event.service
        return undefined
      case 'plan':
        version = event.artifact.version
        return undefined
      case 'target:skipped':
      case 'target:failed':
      case 'target:stopped':
        reasons.set(event.target.id, event.reason)
        return undefined
      case 'batch:start': {
        if (!batchStart) return undefined
        const text = `${name()}: batch ${event.index + 1}/${event.total} started: ${list(
          event.targets.map((t) => t.id),
          maxTargets,
        )}`
        return { kind: 'batch:start', text, ...base(), batch: { index: event.index, total: event.total } }
      }
      case 'batch:end': {
        const outcomes = Object.entries(event.outcomes)
        const lines = details(outcomes, reasons, maxTargets)
        const text = `${name()}: batch ${event.index + 1}/${event.total} ended: ${summary(outcomes.map(([, o]) => o))}${lines}`
        return { kind: 'batch:end', text, ...base(), batch: { index: event.index, total: event.total } }
      }
      case 'rollout:end': {
        const { result } = event
        version ??= result.artifact?.version
        const outcomes = result.targets.map((r): [string, TargetOutcome] => [r.target.id, r.outcome])
        for (const r of result.targets) if (r.reason !== undefined && !reasons.has(r.target.id)) reasons.set(r.target.id, r.reason)
        let text = `${name()} ${result.status} in ${seconds(result.durationMs)}: ${summary(outcomes.map(([, o]) => o))}`
        if (result.reason !== undefined) text += `\nReason: ${result.reason}`
        if (result.needsAttention.length > 0) text += `\nNeeds attention (left out of the load balancer): ${list(ids(result.needsAttention), maxTargets)}`
        text += details(outcomes, reasons, maxTargets)
        // A succeeded rollout can still have left hosts out (excluded by an operator, no longer
        // in service): the warnings about targets the lines above did not already name.
        const listed = new Set(outcomes.filter(([, o]) => o !== 'done' && o !== 'pending').map(([id]) => id))
        for (const w of result.warnings ?? []) if (!listed.has(w.target.id)) text += `\n⚠ ${w.target.id} ${w.kind}: ${w.message}`
        return { kind: 'rollout:end', text, ...base(), status: result.status }
      }
      default:
        return undefined
    }
  }
}

/** `2 done, 1 skipped`, in a fixed order. */
function summary(outcomes: readonly TargetOutcome[]): string {
  const counts = new Map<TargetOutcome, number>()
  for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
  const parts = ORDER.filter((o) => counts.has(o)).map((o) => `${counts.get(o)} ${o}`)
  return parts.length > 0 ? parts.join(', ') : 'no targets'
}

/** One line per target that is neither done nor pending, with the reason the engine gave. */
function details(outcomes: readonly [string, TargetOutcome][], reasons: ReadonlyMap<string, string>, max: number): string {
  const notable = outcomes.filter(([, o]) => o !== 'done' && o !== 'pending')
  const lines = notable.slice(0, max).map(([id, o]) => `\n• ${id} ${o}${reasons.has(id) ? `: ${reasons.get(id)}` : ''}`)
  if (notable.length > max) lines.push(`\n• and ${notable.length - max} more`)
  return lines.join('')
}

function list(items: readonly string[], max: number): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`
}

function ids(targets: readonly Target[]): string[] {
  return targets.map((t) => t.id)
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

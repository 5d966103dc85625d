// Small text helpers shared by the plain reporter, the Markdown summary and the plan
// and status printers: durations, target labels, lists of ids, outcome counts.
import type { RolloutResult, RolloutWarning, Target, TargetOutcome, TargetReport } from '@org/rolling-core'
import { safeLine } from '../safe-text.js'

/** `850ms`, `12.3s`, `4m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  // Pauses and deadlines run to hours: 24h00m, not 1440m00s.
  if (ms >= 3_600_000) return `${Math.floor(ms / 3_600_000)}h${String(Math.round((ms % 3_600_000) / 60_000)).padStart(2, '0')}m`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1000)
  return `${minutes}m${String(seconds).padStart(2, '0')}s`
}

/** `127.0.0.2:8080`, or `[::1]:8080`. */
export function addressOf(target: Target): string {
  const host = target.address.includes(':') ? `[${target.address}]` : target.address
  return safeLine(target.port === undefined ? target.address : `${host}:${target.port}`)
}

/** `web-1 (127.0.0.2:8080)`, or just the id when it is the address. */
export function describe(target: Target): string {
  const where = addressOf(target)
  const id = safeLine(target.id)
  return id === where || target.id === target.address ? id : `${id} (${where})`
}

/** `a, b, c`, or `a, b, ... and 40 more` past `max`. */
export function listIds(targets: readonly Target[], max = 12): string {
  const ids = targets.map((t) => safeLine(t.id))
  if (ids.length <= max) return ids.join(', ')
  return `${ids.slice(0, max).join(', ')}, ... and ${ids.length - max} more`
}

// A record, not a list: a new outcome in core fails to compile here until it has its place
// (a list missed `unverified`, and a result of only unverified targets printed "no targets").
const OUTCOME_RANK = { done: 0, unverified: 1, skipped: 2, failed: 3, 'rolled-back': 4, restored: 5, stopped: 6, pending: 7 } satisfies Record<
  TargetOutcome,
  number
>
export const OUTCOME_ORDER: readonly TargetOutcome[] = (Object.keys(OUTCOME_RANK) as TargetOutcome[]).sort((a, b) => OUTCOME_RANK[a] - OUTCOME_RANK[b])

/** `3 done, 1 failed`, in a fixed order, zeros left out. */
export function countOutcomes(outcomes: Iterable<TargetOutcome>): string {
  const counts = new Map<TargetOutcome, number>()
  for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
  const parts = OUTCOME_ORDER.filter((o) => counts.has(o)).map((o) => `${counts.get(o)} ${o}`)
  return parts.length > 0 ? parts.join(', ') : 'no targets'
}

export function reportsOutcomes(targets: readonly TargetReport[]): TargetOutcome[] {
  return targets.map((t) => t.outcome)
}

/** One line of text: reasons may carry a command's multi-line output; control characters made visible. */
export function oneLine(text: string): string {
  return safeLine(
    String(text)
      .replace(/\s*\n\s*/g, ' | ')
      .trim(),
  )
}

/** What a warning says, without the kind its message may start with (`skipped: ...`). */
export function warningText(warning: RolloutWarning): string {
  const prefix = `${warning.kind}: `
  return warning.message.startsWith(prefix) ? warning.message.slice(prefix.length) : warning.message
}

/** The targets a warning names, by id, so per-target lists do not say the same twice. */
export function warnedIds(result: Pick<RolloutResult, 'warnings'>): Set<string> {
  return new Set((result.warnings ?? []).map((w) => w.target.id))
}

/** `1 warning`, `3 warnings`. */
export function countWarnings(n: number): string {
  return `${n} warning${n === 1 ? '' : 's'}`
}

/** One line for the gates (each failure in full) and one per pause, under the counts of every report. */
export function controlSummary(result: Pick<RolloutResult, 'gates' | 'pauses'>): string[] {
  const lines: string[] = []
  const gates = result.gates ?? []
  if (gates.length > 0) {
    const passed = gates.filter((g) => g.passed).length
    lines.push(`gates: ${passed} of ${gates.length} check(s) passed`)
    for (const g of gates) if (!g.passed) lines.push(`  gate ${g.gate} FAILED ${g.final ? 'at the end' : `after batch ${g.batch + 1}`}: ${oneLine(g.detail)}`)
  }
  for (const p of result.pauses ?? []) {
    lines.push(
      `pause after batch ${p.index + 1}: ${p.how}${p.by ? ` by ${p.by}` : ''}${p.note ? ` (${oneLine(p.note)})` : ''} after ${formatDuration(p.durationMs)}`,
    )
  }
  return lines
}

// Small text helpers shared by the plain reporter, the Markdown summary and the plan
// and status printers: durations, target labels, lists of ids, outcome counts.
import type { Target, TargetOutcome, TargetReport } from '@org/rolling-core'

/** `850ms`, `12.3s`, `4m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1000)
  return `${minutes}m${String(seconds).padStart(2, '0')}s`
}

/** `127.0.0.2:8080`, or `[::1]:8080`. */
export function addressOf(target: Target): string {
  const host = target.address.includes(':') ? `[${target.address}]` : target.address
  return target.port === undefined ? target.address : `${host}:${target.port}`
}

/** `web-1 (127.0.0.2:8080)`, or just the id when it is the address. */
export function describe(target: Target): string {
  const where = addressOf(target)
  return target.id === where || target.id === target.address ? target.id : `${target.id} (${where})`
}

/** `a, b, c`, or `a, b, ... and 40 more` past `max`. */
export function listIds(targets: readonly Target[], max = 12): string {
  const ids = targets.map((t) => t.id)
  if (ids.length <= max) return ids.join(', ')
  return `${ids.slice(0, max).join(', ')}, ... and ${ids.length - max} more`
}

export const OUTCOME_ORDER: readonly TargetOutcome[] = ['done', 'skipped', 'failed', 'rolled-back', 'restored', 'stopped', 'pending']

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

/** One line of text: reasons may carry a command's multi-line output. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' | ').trim()
}

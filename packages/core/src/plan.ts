// Splits the candidates into batches: a count, a percentage, or a schedule
// whose last entry repeats; each batch capped so `minHealthy` stay in service.
import type { Amount } from './options.js'
import { ValidationError } from './errors.js'

/** Resolves a count or percentage of `total`; percentages round up (a batch is at least 1). */
export function amountOf(amount: Amount, total: number): number {
  if (typeof amount === 'number') return amount
  const pct = Number(amount.slice(0, -1))
  return Math.ceil((pct * total) / 100 - 1e-9)
}

/** Batch sizes for `total` candidates. Throws when `minHealthy` leaves no room to deploy. */
export function batchSizes(total: number, batch: Amount | readonly Amount[] = 1, minHealthy: Amount = 0): number[] {
  const keep = amountOf(minHealthy, total)
  const cap = total - keep
  if (total > 0 && cap < 1) {
    throw new ValidationError('minHealthy', `${String(minHealthy)} keeps ${keep} of ${total} targets in service, which leaves none to deploy`)
  }
  const schedule = Array.isArray(batch) ? (batch as readonly Amount[]) : [batch as Amount]
  const sizes: number[] = []
  let left = total
  for (let step = 0; left > 0; step++) {
    const entry = schedule[Math.min(step, schedule.length - 1)] as Amount
    const size = Math.min(left, cap, Math.max(1, amountOf(entry, total)))
    sizes.push(size)
    left -= size
  }
  return sizes
}

/** Splits `items` into consecutive batches of the given sizes. */
export function splitBatches<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const batches: T[][] = []
  let at = 0
  for (const size of sizes) {
    batches.push(items.slice(at, at + size))
    at += size
  }
  return batches
}

/** Zone-aware batches (`zones` option). */
export interface ZonePlan {
  /** The target label that names a target's zone. @example 'zone' */
  label: string
  /**
   * Without it, every batch holds targets of one zone only (CodeDeploy's zonal configuration);
   * with it, a batch may mix zones but holds at most this many (count or % of the zone) of each.
   */
  maxPerZone?: Amount
  /** Targets of each zone that must stay in service (count or % of that zone). @default 0 */
  minHealthy?: Amount
}

export interface BatchPlanOptions {
  batch?: Amount | readonly Amount[]
  minHealthy?: Amount
  zones?: ZonePlan
}

/**
 * Splits candidates into batches: by the schedule alone, or, with `zones`, so that no batch
 * takes more of a zone than `maxPerZone` (or holds more than one zone), nor more than the
 * zone's `minHealthy` allows. The schedule's step counts across zones, so a canary stays one.
 */
export function planBatches<T extends { id: string; labels?: Record<string, string> }>(candidates: readonly T[], options: BatchPlanOptions = {}): T[][] {
  // Also refuses a minHealthy that leaves nothing to deploy.
  const sizes = batchSizes(candidates.length, options.batch ?? 1, options.minHealthy ?? 0)
  const zones = options.zones
  if (!zones) return splitBatches(candidates, sizes)
  const groups = zoneGroups(candidates, zones.label)
  const cap = candidates.length - amountOf(options.minHealthy ?? 0, candidates.length)
  const schedule = Array.isArray(options.batch) ? (options.batch as readonly Amount[]) : [(options.batch ?? 1) as Amount]
  // Per zone: how many may be out at once (its minHealthy, its maxPerZone).
  const room = new Map<string, number>()
  for (const [zone, members] of groups) {
    const keep = amountOf(zones.minHealthy ?? 0, members.length)
    const free = members.length - keep
    if (free < 1) {
      throw new ValidationError(
        'zones.minHealthy',
        `${String(zones.minHealthy)} keeps ${keep} of the ${members.length} targets of zone ${zone} in service, which leaves none to deploy`,
      )
    }
    const most = zones.maxPerZone === undefined ? free : Math.min(free, Math.max(1, amountOf(zones.maxPerZone, members.length)))
    room.set(zone, most)
  }
  const queues = [...groups].map(([zone, members]) => ({ zone, left: [...members] }))
  const batches: T[][] = []
  for (let step = 0; queues.some((q) => q.left.length > 0); step++) {
    const entry = schedule[Math.min(step, schedule.length - 1)] as Amount
    let want = Math.min(cap, Math.max(1, amountOf(entry, candidates.length)))
    const batch: T[] = []
    if (zones.maxPerZone === undefined) {
      // One zone a batch: the zones in the order first seen, each to its end.
      const q = queues.find((x) => x.left.length > 0) as (typeof queues)[number]
      batch.push(...q.left.splice(0, Math.min(want, room.get(q.zone) as number)))
    } else {
      // Mixed zones: round-robin, at most `room` of each zone.
      const taken = new Map<string, number>()
      for (let moved = true; want > 0 && moved; ) {
        moved = false
        for (const q of queues) {
          if (want === 0 || q.left.length === 0 || (taken.get(q.zone) ?? 0) >= (room.get(q.zone) as number)) continue
          batch.push(q.left.shift() as T)
          taken.set(q.zone, (taken.get(q.zone) ?? 0) + 1)
          want--
          moved = true
        }
      }
    }
    batches.push(batch)
  }
  return batches
}

/** Candidates by zone, in the order the zones are first seen; a target without the label is refused. */
export function zoneGroups<T extends { id: string; labels?: Record<string, string> }>(candidates: readonly T[], label: string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  const unlabelled = candidates.filter((t) => !t.labels?.[label])
  if (unlabelled.length > 0) {
    const shown = unlabelled
      .slice(0, 5)
      .map((t) => t.id)
      .join(', ')
    throw new ValidationError(
      'zones.label',
      `${unlabelled.length} target(s) have no label ${JSON.stringify(label)} (${shown}${unlabelled.length > 5 ? ', ...' : ''}); the load balancer adapter must set it (the ELBv2 adapter sets labels.zone)`,
    )
  }
  for (const t of candidates) {
    const zone = t.labels?.[label] as string
    const group = groups.get(zone)
    if (group) group.push(t)
    else groups.set(zone, [t])
  }
  return groups
}

/** The zones a batch holds, for plan output and events. */
export function zonesOf(batch: readonly { labels?: Record<string, string> }[], label: string): string[] {
  return [...new Set(batch.map((t) => t.labels?.[label] ?? '?'))]
}

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

// Runs a step over many targets with a bounded number at once (p-limit): checks of a whole
// fleet must not open ten thousand connections together.
import pLimit from 'p-limit'

/** How many targets the fleet-wide phases (fleet check, verify, plan) check at once. */
export const FLEET_CONCURRENCY = 32

export function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  if (items.length <= concurrency) return Promise.all(items.map(fn))
  const limit = pLimit(concurrency)
  return Promise.all(items.map((item) => limit(() => fn(item))))
}

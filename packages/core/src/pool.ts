// Runs a step over many targets with a bounded number at once: checks of a whole fleet must
// not open ten thousand connections together. A fixed set of workers pulling the next index,
// not a limiter queue (p-limit): that allocates a few promises and closures per item, which
// was a fifth of all the garbage of a 10,000-target rollout (the fleet check, verify and the
// plan's skip-matching check every target).

/** How many targets the fleet-wide phases (fleet check, verify, plan) check at once. */
export const FLEET_CONCURRENCY = 32

/** Like `Promise.all(items.map(fn))`, with at most `concurrency` calls of `fn` running at once. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  if (items.length <= concurrency) return Promise.all(items.map(fn))
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T)
    }
  }
  const workers: Promise<void>[] = []
  for (let w = 0; w < concurrency; w++) workers.push(worker())
  await Promise.all(workers)
  return results
}

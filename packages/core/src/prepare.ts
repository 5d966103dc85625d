// The recipe's optional prepare step (download, checksum, unpack: nothing the running
// service sees), run while targets are still in service. The next batch is prepared while
// the current one waits for the load balancer, so the time out of service stays short.
import type { Target } from './types.js'
import type { Engine } from './engine.js'
import { errorMessage } from './errors.js'

/** What became of a target's prepare step: done, failed (with why), or not run. */
export type Prepared = { state: 'done' } | { state: 'failed'; reason: string } | { state: 'not-run' }

/**
 * Starts preparing `targets` now; `prepared()` picks the outcome up later. Never rejects.
 * With `checkFirst` (ahead of its batch), a target that does not answer 200 is left alone:
 * its batch's own pre-check decides about it.
 */
export function prepareAhead(engine: Engine, targets: readonly Target[], batch: number, checkFirst = true): void {
  const step = engine.recipe.prepare
  targets = targets.filter((t) => !engine.preparing.has(t.id))
  if (!step || targets.length === 0 || engine.stopping) return
  const shared = engine.shared(`prepare of batch ${batch + 1}`, engine.timeouts.deploy + engine.timeouts.precheck)
  const runs = targets.map((target) => {
    const run = (async (): Promise<Prepared> => {
      if (checkFirst && !(await engine.checkHealth(target, shared)).ok) return { state: 'not-run' }
      const start = engine.clock.now()
      try {
        await step.call(engine.recipe, await engine.deployArgs(target, shared.ctx(target)))
        return { state: 'done' }
      } catch (error) {
        return { state: 'failed', reason: `prepare failed (still in service, untouched): ${errorMessage(error)}` }
      } finally {
        engine.took(target, 'prepare', start)
      }
    })()
    engine.preparing.set(target.id, run)
    return run
  })
  void Promise.all(runs).finally(shared.dispose)
}

/** Prepares the targets (or waits for a preparation under way); returns the failures. */
export async function prepared(engine: Engine, targets: readonly Target[], batch: number): Promise<{ target: Target; reason: string }[]> {
  const outcomes = await collect(engine, targets)
  // Passed their pre-check now, but were not prepared ahead: prepare them here.
  const late = targets.filter((t) => outcomes.get(t.id)?.state === 'not-run' || !outcomes.has(t.id))
  prepareAhead(engine, late, batch, false)
  for (const [id, outcome] of await collect(engine, late)) outcomes.set(id, outcome)
  return targets.flatMap((target) => {
    const outcome = outcomes.get(target.id)
    return outcome?.state === 'failed' ? [{ target, reason: outcome.reason }] : []
  })
}

async function collect(engine: Engine, targets: readonly Target[]): Promise<Map<string, Prepared>> {
  const outcomes = new Map<string, Prepared>()
  for (const target of targets) {
    const run = engine.preparing.get(target.id)
    if (!run) continue
    outcomes.set(target.id, await run)
    engine.preparing.delete(target.id)
  }
  return outcomes
}

/** Waits for preparations nobody collected (the rollout stopped first), so no step is cut off. */
export async function settlePreparations(engine: Engine): Promise<void> {
  await Promise.all(engine.preparing.values())
  engine.preparing.clear()
}

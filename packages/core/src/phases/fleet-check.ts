// The fleet check before each batch after the first: every target this rollout put back
// in service is checked again, in one concurrent round. One that fails now (or that runs
// another build than the one it was seen healthy on) is taken out again and the rollout
// halts before anything more is detached; so it does when fewer than `minHealthy` healthy
// targets are left in service.
//
// The newest batch is always asked. Older targets are asked in turn, oldest first, at most
// `olderPerCheck(batch size)` of them per check, and not again within FRESH_MS of a pass: a
// fleet of up to 64 (or 4 batches) is asked whole before every batch; a rollout of 10,000
// targets in batches of 100 makes about 500 checks per batch instead of 10,000, and each
// target is still asked again every 25 batches. Not asked means counted as last seen.
import type { Target } from '../types.js'
import type { Engine } from '../engine.js'
import { ATTACHED } from '../engine.js'
import { amountOf } from '../plan.js'
import { describeTarget } from '../errors.js'
import { FLEET_CONCURRENCY, mapLimit } from '../pool.js'
import { eject, type Failing } from './eject.js'
import { passes } from './settle.js'

/** How recent a passing check must be for an older target not to be asked again. */
export const FRESH_MS = 1000

/** How many older targets one fleet check asks, for a batch of `size`. */
export const olderPerCheck = (size: number): number => Math.max(64, 4 * size)

export interface FleetCheckEnd {
  /** Too few healthy in service: no further batch may start, whatever the failure budget. */
  halt?: string
  /** Targets that failed the check, taken out again: the failure budget decides. */
  failed: Target[]
  failure?: string
}

/** Checks the fleet before batch `batch`; the next batch may go when nothing is returned failing. */
export async function fleetCheck(engine: Engine, batch: number, previous: readonly Target[], planned: readonly Target[]): Promise<FleetCheckEnd> {
  const need = amountOf(engine.minHealthy, engine.planned)
  const isAttached = (t: Target) => ATTACHED.has(engine.report(t, -1).outcome)
  const newest = previous.filter(isAttached)
  const attached = newest.concat(olderInTurn(engine, batch, olderPerCheck(previous.length)))
  // Targets not reached yet only count towards minHealthy; their own pre-check judges them.
  const untouched = need > 0 ? planned.filter((t) => engine.report(t, -1).outcome === 'pending') : []
  // With minHealthy, the attached targets not asked count as healthy: they were when last asked.
  const notAsked = need > 0 ? engine.attachedInOrder.filter(isAttached).length - attached.length : 0
  const targets = attached.concat(untouched)
  if (targets.length === 0) return { failed: [] }
  engine.emitter.emit('fleet:check', { batch, targets })
  const rounds = Math.ceil(targets.length / FLEET_CONCURRENCY)
  const shared = engine.shared(`fleet check before batch ${batch + 1}`, engine.timeouts.precheck * (rounds + 1))
  const start = engine.clock.now()
  const healths = await mapLimit(targets, FLEET_CONCURRENCY, (target) => engine.checkHealth(target, shared)).finally(shared.dispose)
  const failing: Failing[] = []
  let healthy = notAsked
  targets.forEach((target, i) => {
    const health = healths[i] as NonNullable<(typeof healths)[number]>
    const mine = i < attached.length
    // A target seen on our build must still be on it; a restored or untouched one runs either.
    const outcome = engine.report(target, -1).outcome
    const ok = outcome === 'done' || outcome === 'unverified' ? passes(engine, health) : health.ok
    if (ok) {
      healthy++
      if (mine) engine.passedAt.set(target.id, engine.clock.now())
    } else if (mine) failing.push({ target, reason: `failed the fleet check before batch ${batch + 1}: ${engine.describeHealth(health)}` })
  })
  const ms = engine.clock.now() - start
  for (const target of attached) {
    const report = engine.report(target, -1)
    report.timings.gate = (report.timings.gate ?? 0) + ms
  }
  const end: FleetCheckEnd = { failed: failing.map((f) => f.target) }
  if (failing.length > 0) {
    engine.emitter.emit('fleet:unhealthy', { batch, failing, healthy, minHealthy: need })
    await eject(engine, failing, batch, 'gate')
    const shown = failing.slice(0, 5).map((f) => `${describeTarget(f.target)} ${f.reason.replace(/^failed the fleet check before batch \d+: /, '')}`)
    end.failure = `${failing.length} target(s) failed the fleet check before batch ${batch + 1}: ${shown.join('; ')}`
  }
  if (healthy < need) {
    if (failing.length === 0) engine.emitter.emit('fleet:unhealthy', { batch, failing, healthy, minHealthy: need })
    const low = `only ${healthy} healthy target(s) in service before batch ${batch + 1}, fewer than minHealthy (${need})`
    end.halt = end.failure ? `${end.failure}; ${low}` : low
  }
  return end
}

/** Up to `max` attached targets of earlier batches, in turn from where the last check stopped. */
function olderInTurn(engine: Engine, batch: number, max: number): Target[] {
  const list = engine.attachedInOrder
  const picked: Target[] = []
  const now = engine.clock.now()
  // Looks at no more than twice what it may pick, so a fleet seen a moment ago costs O(batch).
  for (let seen = 0; seen < Math.min(list.length, 2 * max) && picked.length < max; seen++) {
    const target = list[engine.olderCursor++ % list.length] as Target
    const report = engine.report(target, -1)
    if (report.batch >= batch - 1 || !ATTACHED.has(report.outcome)) continue
    if (now - (engine.passedAt.get(target.id) ?? Number.NEGATIVE_INFINITY) < FRESH_MS) continue
    picked.push(target)
  }
  return picked
}

// The fleet check before each batch after the first: every target this rollout put back
// in service is checked again, in one concurrent round. One that fails now (or that runs
// another build than the one it was seen healthy on) is taken out again and the rollout
// halts before anything more is detached; so it does when fewer than `minHealthy` healthy
// targets are left in service.
//
// The newest batch is always asked. An older target seen passing less than FRESH_MS ago is
// not asked again: a rollout of 10,000 targets in batches of 100 would otherwise make
// 500,000 checks, most of them of hosts checked a moment before. Any batch that takes
// longer than that (every real one) re-checks the whole fleet.
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

/** Returns a halt reason, or undefined when the next batch may go. */
export async function fleetCheck(engine: Engine, batch: number, planned: readonly Target[]): Promise<string | undefined> {
  const need = amountOf(engine.minHealthy, engine.planned)
  const attached: Target[] = []
  const untouched: Target[] = []
  const now = engine.clock.now()
  // Older targets not asked again count as the healthy they were seen to be a moment ago.
  let recent = 0
  for (const target of planned) {
    const report = engine.report(target, -1)
    const outcome = report.outcome
    if (ATTACHED.has(outcome)) {
      const fresh = now - (engine.passedAt.get(target.id) ?? Number.NEGATIVE_INFINITY) < FRESH_MS
      if (report.batch === batch - 1 || !fresh) attached.push(target)
      else recent++
    }
    // Targets not reached yet only count towards minHealthy; their own pre-check judges them.
    else if (outcome === 'pending' && need > 0) untouched.push(target)
  }
  const targets = attached.concat(untouched)
  if (targets.length === 0) return recent < need ? `only ${recent} healthy target(s) in service before batch ${batch + 1}, fewer than minHealthy (${need})` : undefined
  engine.emitter.emit('fleet:check', { batch, targets })
  const rounds = Math.ceil(targets.length / FLEET_CONCURRENCY)
  const shared = engine.shared(`fleet check before batch ${batch + 1}`, engine.timeouts.precheck * (rounds + 1))
  const start = engine.clock.now()
  const healths = await mapLimit(targets, FLEET_CONCURRENCY, (target) => engine.checkHealth(target, shared)).finally(shared.dispose)
  const failing: Failing[] = []
  let healthy = recent
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
  const reasons: string[] = []
  if (failing.length > 0) {
    engine.emitter.emit('fleet:unhealthy', { batch, failing, healthy, minHealthy: need })
    await eject(engine, failing, batch, 'gate')
    const shown = failing.slice(0, 5).map((f) => `${describeTarget(f.target)} ${f.reason.replace(/^failed the fleet check before batch \d+: /, '')}`)
    reasons.push(`${failing.length} target(s) failed the fleet check before batch ${batch + 1}: ${shown.join('; ')}`)
  }
  if (healthy < need) {
    if (failing.length === 0) engine.emitter.emit('fleet:unhealthy', { batch, failing, healthy, minHealthy: need })
    reasons.push(`only ${healthy} healthy target(s) in service before batch ${batch + 1}, fewer than minHealthy (${need})`)
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined
}

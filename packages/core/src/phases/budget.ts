// The failure budget (`maxFailures`, Ansible's max_fail_percentage, Octopus's "exclude
// machine"): a target that fails its new build is left out (or rolled back) and listed, and
// the rollout goes on while the failures stay within the budget; it then ends `degraded`.
// The budget never lets `minHealthy` be broken: before a batch detaches, the targets left in
// service once it is out must still be enough, for the fleet and for each zone.
import type { Target } from '../types.js'
import type { Engine } from '../engine.js'
import { ATTACHED } from '../engine.js'
import { amountOf, zoneGroups } from '../plan.js'
import { describeTarget } from '../errors.js'

/**
 * Spends the budget on the failed targets of a batch. Returns the halt reason once the
 * failures go past the budget (with no budget: the first failure's reason, as always).
 */
export function spend(engine: Engine, failed: readonly Target[], reason: string): string | undefined {
  const control = engine.control
  if (failed.length === 0) return undefined
  for (const target of failed) {
    control.failures.push(target)
    if (control.failures.length <= control.budget) {
      engine.emitter.emit('budget:spent', { target, failures: control.failures.length, budget: control.budget })
    }
  }
  if (control.failures.length <= control.budget) return undefined
  if (control.budget === 0) return reason
  return `${control.failures.length} target(s) failed, more than maxFailures (${control.budget}): ${reason}`
}

/** Planned targets in service now: those this rollout put back, and those not reached yet. */
function inService(engine: Engine, planned: readonly Target[], next: ReadonlySet<string>): Target[] {
  return planned.filter((t) => {
    if (next.has(t.id)) return false
    const outcome = engine.report(t, -1).outcome
    return outcome === 'pending' || ATTACHED.has(outcome)
  })
}

/**
 * With failures left out, checks that detaching `next` keeps `minHealthy` in service (and
 * each zone's `zones.minHealthy`). Returns a halt reason, or undefined.
 */
export function roomFor(engine: Engine, next: readonly Target[], planned: readonly Target[]): string | undefined {
  const control = engine.control
  if (control.failures.length === 0) return undefined
  const ids = new Set(next.map((t) => t.id))
  const left = inService(engine, planned, ids)
  const need = amountOf(engine.minHealthy, engine.planned)
  const spent = `${control.failures.length} failed target(s) left out (${control.failures.slice(0, 5).map(describeTarget).join(', ')})`
  if (left.length < need) {
    return `detaching the next ${next.length} target(s) would leave ${left.length} in service, fewer than minHealthy (${need}), with ${spent}`
  }
  const zones = control.zones
  if (zones?.minHealthy === undefined) return undefined
  const all = zoneGroups(planned, zones.label)
  const now = zoneGroups(left, zones.label)
  for (const [zone, members] of all) {
    const zoneNeed = amountOf(zones.minHealthy, members.length)
    const have = now.get(zone)?.length ?? 0
    if (have < zoneNeed) {
      return `detaching the next ${next.length} target(s) would leave ${have} of zone ${zone} in service, fewer than zones.minHealthy (${zoneNeed}), with ${spent}`
    }
  }
  return undefined
}

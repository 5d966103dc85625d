// A fleet of in-memory hosts wired into rollout options, on a fake clock, for the engine's rule tests.
import { memoryJournal, memoryLock, rollout, type RolloutOptions, type RolloutResult } from '@org/rolling-core'
import { FakeClock } from '../../src/testing/fake-clock.js'
import { memoryFleet, type MemoryFleetOptions } from '../../src/testing/memory-fleet.js'

export function setup(fleetOptions: Partial<MemoryFleetOptions> & { size: number }) {
  const clock = new FakeClock()
  const fleet = memoryFleet({ clock, drainMs: 5_000, attachMs: 2_000, deployMs: 10_000, ...fleetOptions })
  fleet.publish('v2')
  const journal = memoryJournal()
  const lock = memoryLock()
  const options = (extra: Partial<RolloutOptions> = {}): RolloutOptions => ({
    ...fleet.adapters,
    clock,
    journal,
    lock,
    ...extra,
  })
  return { clock, fleet, journal, lock, options, run: (extra?: Partial<RolloutOptions>) => rollout(options(extra)) }
}

export function outcomes(result: RolloutResult): Record<string, string> {
  return Object.fromEntries(result.targets.map((r) => [r.target.id, r.outcome]))
}

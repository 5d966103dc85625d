// PhaseTracker: where each target's phases start and end, read from the events of real
// rollouts over the in-memory fleet (a rollback, a hold, a fleet check that takes a finished
// target out again, an abort), as the CLI's timeline and the OpenTelemetry trace use it.
import { describe, expect, it } from 'vitest'
import { PhaseTracker, type RolloutOptions } from '@org/rolling-core'
import { setup } from '../engine/_fixture.js'

/** Each target's phases as `phase:how`, in order, from every event of the run. */
async function phasesOf(fleet: ReturnType<typeof setup>, extra: Partial<RolloutOptions>, during?: () => void) {
  const tracker = new PhaseTracker()
  const seen = new Map<string, string[]>()
  const open = new Map<string, string>()
  const run = fleet.run(extra)
  run.subscribe((event) => {
    for (const change of tracker.apply(event)) {
      const id = change.target.id
      if (change.kind === 'start') {
        expect(open.has(id), `${id} starts ${change.phase} with ${open.get(id)} open`).toBe(false)
        open.set(id, change.phase)
      } else {
        expect(open.get(id)).toBe(change.phase)
        open.delete(id)
        seen.set(id, [...(seen.get(id) ?? []), `${change.phase}:${change.end}`])
      }
    }
  })
  during?.()
  const result = await run
  // Nothing is left open once the rollout ended.
  expect([...open]).toEqual([])
  return { result, phases: Object.fromEntries(seen) }
}

describe('PhaseTracker', () => {
  it('reads a rollback and a hold, each target in order, every phase ended', async () => {
    const f = setup({ size: 2 })
    f.fleet.breakAfterDeploy('host-2')
    const { result, phases } = await phasesOf(f, { batch: 2, onFailure: 'rollback', settle: { delay: 1000, hold: 3000 } })
    expect(result.status).toBe('halted')
    expect(phases).toEqual({
      'host-1': ['precheck:ok', 'detach:ok', 'deploy:ok', 'settle:ok', 'attach:ok', 'hold:ok'],
      // Its settle failed; its old build was restored and attached, then held like the rest, and failed its hold.
      'host-2': ['precheck:ok', 'detach:ok', 'deploy:ok', 'settle:failed', 'rollback:ok', 'attach:ok', 'hold:failed'],
    })
  })

  it('shows a finished target that the next fleet check takes out as a failed gate', async () => {
    const f = setup({ size: 2 })
    // Healthy at its settle (1 s after the install), failing by the fleet check after its attach (2 s).
    f.fleet.dieAfterDeploy('host-1', 1500)
    const { result, phases } = await phasesOf(f, { batch: 1, settle: { delay: 1000 } })
    expect(result.status).toBe('halted')
    expect(phases['host-1']).toEqual(['precheck:ok', 'detach:ok', 'deploy:ok', 'settle:ok', 'attach:ok', 'gate:failed'])
    expect(phases['host-2']).toBeUndefined()
  })

  it('ends a phase an abort interrupts as cut, and a skip as skipped', async () => {
    const f = setup({ size: 3 })
    f.fleet.unhealthyBefore('host-3')
    const controller = new AbortController()
    const { result, phases } = await phasesOf(f, { batch: 3, settle: { delay: 60_000 }, signal: controller.signal }, () => {
      f.clock.setTimeout(() => controller.abort(), 30_000)
    })
    expect(result.status).toBe('aborted')
    expect(phases['host-3']).toEqual(['precheck:skipped'])
    // Its settle was cut short by the abort; healthy, it was put back.
    expect(phases['host-1']).toEqual(['precheck:ok', 'detach:ok', 'deploy:ok', 'settle:cut', 'attach:ok'])
    expect(result.targets.find((t) => t.target.id === 'host-1')?.outcome).toBe('restored')
  })
})

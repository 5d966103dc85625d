import { describe, expect, it } from 'vitest'
import { outcomes, setup } from './_fixture.js'

describe('smoke', () => {
  it('rolls v1 to v2 in simulated time: every phase timed, the result as long as the clock says', async () => {
    const { run, fleet, clock } = setup({ size: 4 })
    const t0 = clock.now()
    const result = await run()
    expect(result.status).toBe('succeeded')
    expect(Object.values(outcomes(result))).toEqual(['done', 'done', 'done', 'done'])
    expect(fleet.versions().get('v2')).toBe(4)
    expect(result.durationMs).toBe(clock.now() - t0)
    // The fixture's fleet: 5 s drain, 10 s deploy, the default 60 s settle, 2 s attach.
    expect(result.targets[0]?.timings).toMatchObject({ detach: 5000, deploy: 10_000, settle: 60_000, attach: 2000 })
  })
})

import { describe, expect, it } from 'vitest'
import { outcomes, setup } from './_fixture.js'

describe('smoke', () => {
  it('rolls v1 to v2', async () => {
    const { run, fleet, clock } = setup({ size: 4 })
    const t0 = clock.now()
    const result = await run()
    expect(result.status).toBe('succeeded')
    expect(Object.values(outcomes(result))).toEqual(['done', 'done', 'done', 'done'])
    expect(fleet.versions().get('v2')).toBe(4)
    console.log(result.durationMs, clock.now() - t0, JSON.stringify(result.targets[0]))
  })
})

// resume() picks up a run from wherever the journal says it stopped: mid-settle,
// mid-attach, or in the verify phase. A run that never ends stands in for a crash.
import { describe, expect, it } from 'vitest'
import { memoryJournal, memoryLock, resume, type Hooks, type RolloutOptions } from '@org/rolling-core'
import { outcomes, setup } from './_fixture.js'

const never = () => new Promise<never>(() => {})

/** Starts a rollout that freezes where `freeze` says, then resumes a copy of its journal. */
async function crashAndResume(freeze: (fx: ReturnType<typeof setup>) => Partial<RolloutOptions>, size = 4) {
  const fx = setup({ size })
  void fx.run({ batch: 2, ...freeze(fx) })
  await new Promise((r) => setTimeout(r, 100))
  const journal = memoryJournal()
  for (const record of fx.journal.records) journal.append(record)
  fx.fleet.lb.onAttach = undefined
  fx.fleet.lb.onDetach = undefined
  const result = await resume({ ...fx.options({ batch: undefined }), journal, lock: memoryLock(), hooks: {} } as never)
  return { fx, result, journal }
}

describe('resume from the journal', () => {
  it('after a crash mid-settle: checks, attaches, goes on', async () => {
    const hooks: Hooks = { afterDeploy: ({ target }) => (target.id === 'host-3' ? never() : undefined) }
    const { fx, result } = await crashAndResume(() => ({ hooks }))
    expect(result.status).toBe('succeeded')
    expect(Object.values(outcomes(result))).toEqual(['done', 'done', 'done', 'done'])
    for (const t of fx.fleet.targets) expect(fx.fleet.lb.inService(t.id)).toBe(true)
    expect(fx.fleet.versions().get('v2')).toBe(4)
  })

  it('after a crash mid-attach: attaches again', async () => {
    const { fx, result } = await crashAndResume((fx) => {
      let calls = 0
      fx.fleet.lb.onAttach = () => (++calls === 2 ? never() : undefined)
      return {}
    })
    expect(result.status).toBe('succeeded')
    for (const t of fx.fleet.targets) expect(fx.fleet.lb.inService(t.id)).toBe(true)
  })

  it('after a crash in verify: verifies again', async () => {
    const { result, journal } = await crashAndResume((fx) => {
      // Its health check is not trusted to name the build: verify reads it from the recipe.
      fx.fleet.ignoreDeploy('host-2')
      return { hooks: { beforeVerify: never }, settle: { requireBuild: false } }
    })
    expect(result.status).toBe('succeeded')
    expect(outcomes(result)['host-2']).toBe('stopped')
    expect(journal.records.at(-1)).toMatchObject({ type: 'end', status: 'succeeded' })
  })

  it('after a crash mid-detach: detaches again, naming the targets in ctx.resumedDetach (their state may be its own)', async () => {
    const seen: (readonly string[] | undefined)[] = []
    const { fx, result } = await crashAndResume((fx) => {
      let calls = 0
      const detach = fx.fleet.lb.detach.bind(fx.fleet.lb)
      fx.fleet.lb.detach = async (targets, ctx) => {
        seen.push(ctx.resumedDetach)
        // The first rollout's drain never ends: a crash while draining.
        return ++calls === 1 ? never() : detach(targets, ctx)
      }
      return {}
    })
    expect(result.status).toBe('succeeded')
    expect(seen[0]).toBeUndefined()
    expect(seen[1]).toEqual(['host-1', 'host-2'])
    expect(seen[2]).toBeUndefined()
    for (const t of fx.fleet.targets) expect(fx.fleet.lb.inService(t.id)).toBe(true)
  })

  it('after a crash while the fleet check ejected a host of an older batch: ejects it again and halts', async () => {
    const { fx, result } = await crashAndResume((fx) => {
      // host-1 (batch 1) fails a later fleet check; the eject's detach never returns: a crash mid-eject.
      fx.fleet.dieAfterDeploy('host-1', 40_000)
      let seen = 0
      fx.fleet.lb.onDetach = (targets) => (targets.some((t) => t.id === 'host-1') && ++seen === 2 ? never() : undefined)
      return { settle: { interval: 1000, successes: 2 } }
    }, 10)
    expect(result.status).toBe('halted')
    expect(result.targets.find((t) => t.target.id === 'host-1')).toMatchObject({ outcome: 'failed', failedIn: 'gate' })
    expect(fx.fleet.lb.inService('host-1')).toBe(false)
  })

  it('refuses when the journal holds no unfinished run', async () => {
    const fx = setup({ size: 2 })
    await fx.run()
    await expect(resume(fx.options())).rejects.toThrow(/no rollout to resume: run .* already ended \(succeeded\)/)
    await expect(resume(fx.options({ journal: memoryJournal() }))).rejects.toThrow(/no rollout to resume: the journal memory is empty/)
  })
})

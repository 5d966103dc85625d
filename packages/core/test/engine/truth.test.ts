// The result tells the truth (DESIGN.md): one test per rule, on the in-memory fleet and the
// fake clock. Each fault is one a real fleet has: a restart that leaves the old process
// serving, a build that dies or flaps after it first answers 200, a health page that names
// no build, an operator acting on the load balancer, a drain that never completes.
import { describe, expect, it } from 'vitest'
import {
  plan,
  resume,
  memoryJournal,
  memoryLock,
  type AttachResult,
  type DetachResult,
  type LoadBalancer,
  type RolloutResult,
  type Target,
} from '@org/rolling-core'
import { outcomes, setup } from './_fixture.js'

const POLL = { interval: 1000, successes: 2, deadline: 20_000 } as const

const byId = (result: RolloutResult, id: string) => result.targets.find((r) => r.target.id === id)
const ids = (targets: readonly Target[]) => targets.map((t) => t.id).sort()
const kinds = (result: RolloutResult) => result.warnings.map((w) => `${w.kind}:${w.target.id}`).sort()

/** The fleet's load balancer, with answers an operator's hand or a slow drain would give. */
function withLb(lb: LoadBalancer, over: Partial<LoadBalancer>): LoadBalancer {
  return {
    name: lb.name,
    discover: (ctx) => lb.discover(ctx),
    detach: (targets, ctx) => lb.detach(targets, ctx),
    attach: (targets, ctx) => lb.attach(targets, ctx),
    ...over,
  }
}

describe('settle checks the build, not only the status code', () => {
  it('a restart that leaves the old process serving fails settle ("still running v1") and halts, the host left out', async () => {
    const fx = setup({ size: 4 })
    fx.fleet.ignoreDeploy('host-2')
    const result = await fx.run({ batch: 2, settle: { ...POLL, deadline: 5000 } })
    expect(result.status).toBe('halted')
    expect(byId(result, 'host-2')).toMatchObject({ outcome: 'failed', failedIn: 'settle' })
    expect(byId(result, 'host-2')?.reason).toMatch(/still running v1 .*expected v2/)
    expect(result.reason).toMatch(/host-2/)
    expect(ids(result.needsAttention)).toEqual(['host-2'])
    expect(fx.fleet.lb.inService('host-2')).toBe(false)
    expect(outcomes(result)).toMatchObject({ 'host-1': 'done', 'host-3': 'pending', 'host-4': 'pending' })
  })

  it('the same with the default single check after 60 s', async () => {
    const fx = setup({ size: 2 })
    fx.fleet.ignoreDeploy('host-1')
    const result = await fx.run()
    expect(result.status).toBe('halted')
    expect(byId(result, 'host-1')?.reason).toMatch(/still running v1/)
    expect(fx.fleet.lb.inService('host-1')).toBe(false)
  })

  it('settle.requireBuild: false accepts any 200, and the target is unverified until verify reads its build', async () => {
    const fx = setup({ size: 2 })
    const run = fx.run({ settle: { ...POLL, requireBuild: false }, verify: false })
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(Object.values(outcomes(result))).toEqual(['unverified', 'unverified'])
    expect(kinds(result)).toEqual(['unverified:host-1', 'unverified:host-2'])
  })
})

describe('done means seen healthy on the new build', () => {
  it('a health check that names no build leaves the target unverified; verify confirms it through the recipe', async () => {
    const fx = setup({ size: 2 })
    fx.fleet.hideBuild('host-1')
    const attachedAs: string[] = []
    const run = fx.run({ settle: POLL })
    run.on('batch:end', ({ outcomes: o }) => attachedAs.push(o['host-1'] ?? ''))
    const result = await run
    expect(attachedAs[0]).toBe('unverified')
    expect(result.status).toBe('succeeded')
    expect(byId(result, 'host-1')).toMatchObject({ outcome: 'done', version: 'v2' })
    expect(result.warnings).toEqual([])
  })

  it('a halted rollout lists the targets it never confirmed', async () => {
    const fx = setup({ size: 3 })
    fx.fleet.hideBuild('host-1')
    fx.fleet.breakAfterDeploy('host-2')
    const result = await fx.run({ settle: POLL })
    expect(result.status).toBe('halted')
    expect(byId(result, 'host-1')?.outcome).toBe('unverified')
    expect(kinds(result)).toContain('unverified:host-1')
  })
})

describe('the fleet check before each batch', () => {
  it('a host that dies after its settle is taken out again before the next batch, and the rollout halts', async () => {
    const fx = setup({ size: 4 })
    // 200 for 1.5 s after the install: long enough for settle (2 polls), not for the attach (2 s).
    fx.fleet.dieAfterDeploy('host-1', 1500)
    fx.fleet.dieAfterDeploy('host-2', 1500)
    const checks: string[][] = []
    const run = fx.run({ batch: 2, settle: POLL })
    run.on('fleet:check', ({ targets }) => checks.push(ids(targets)))
    const result = await run
    expect(result.status).toBe('halted')
    expect(result.reason).toMatch(/failed the fleet check before batch 2/)
    expect(checks).toEqual([['host-1', 'host-2']])
    expect(outcomes(result)).toEqual({ 'host-1': 'failed', 'host-2': 'failed', 'host-3': 'pending', 'host-4': 'pending' })
    expect(byId(result, 'host-1')).toMatchObject({ failedIn: 'gate' })
    // Left out, and nothing more was detached: the old build keeps serving.
    expect(fx.fleet.lb.inService('host-1')).toBe(false)
    expect(fx.fleet.lb.inService('host-3')).toBe(true)
    expect(fx.fleet.lb.calls.filter((c) => c.op === 'detach').flatMap((c) => c.ids)).toEqual(['host-1', 'host-2', 'host-1', 'host-2'])
    expect(ids(result.needsAttention)).toEqual(['host-1', 'host-2'])
  })

  it('asks older targets again too: a host of the first batch that dies later is caught before a later batch', async () => {
    const fx = setup({ size: 10 })
    fx.fleet.dieAfterDeploy('host-1', 40_000)
    const result = await fx.run({ batch: 2, settle: POLL })
    expect(result.status).toBe('halted')
    expect(byId(result, 'host-1')).toMatchObject({ outcome: 'failed', failedIn: 'gate' })
    expect(fx.fleet.lb.inService('host-1')).toBe(false)
    expect(Object.values(outcomes(result))).toContain('pending')
  })

  it('asks the newest batch and at most 64 (or 4 batches of) older targets per check, in turn', async () => {
    // Each batch takes a second (its deploy), so the older targets' last pass is not fresh.
    const fx = setup({ size: 120, drainMs: 0, attachMs: 0, deployMs: 1000 })
    const asked: number[] = []
    const seen = new Set<string>()
    const run = fx.run({ batch: 2, settle: { interval: 1000, successes: 2 } })
    run.on('fleet:check', ({ targets }) => {
      asked.push(targets.length)
      for (const t of targets) seen.add(t.id)
    })
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(Math.max(...asked)).toBe(2 + 64)
    // Every attached target but the last batch's was asked at least once again.
    expect(seen.size).toBe(118)
  })

  it('fewer than minHealthy healthy in service halts before the next detach', async () => {
    const fx = setup({ size: 5 })
    const run = fx.run({ batch: 1, minHealthy: 3, settle: POLL })
    run.on('batch:end', ({ index }) => {
      if (index === 0) for (const id of ['host-3', 'host-4', 'host-5']) fx.fleet.hosts.get(id)!.healthy = false
    })
    const result = await run
    expect(result.status).toBe('halted')
    expect(result.reason).toMatch(/only 2 healthy target\(s\) in service before batch 2, fewer than minHealthy \(3\)/)
    expect(fx.fleet.lb.calls.filter((c) => c.op === 'detach')).toHaveLength(1)
  })

  it('settle.hold: a flapping build is caught while held, taken out and the rollout halts', async () => {
    const fx = setup({ size: 4 })
    fx.fleet.flapAfterDeploy('host-1', 500)
    const held: number[] = []
    const run = fx.run({ batch: 2, settle: { interval: 100, successes: 2, hold: 2000 } })
    run.on('target:holding', ({ holdMs }) => held.push(holdMs))
    const result = await run
    expect(held).toEqual([2000, 2000])
    expect(result.status).toBe('halted')
    expect(byId(result, 'host-1')).toMatchObject({ outcome: 'failed', failedIn: 'hold' })
    expect(byId(result, 'host-1')?.reason).toMatch(/into its 2000 ms hold/)
    expect(byId(result, 'host-2')?.outcome).toBe('done')
    expect(fx.fleet.lb.inService('host-1')).toBe(false)
    expect(fx.fleet.lb.inService('host-3')).toBe(true)
  })

  it('settle.hold keeps a batch open for the hold on the fake clock, then it counts', async () => {
    const fx = setup({ size: 2 })
    const result = await fx.run({ batch: 2, settle: { ...POLL, hold: 30_000 } })
    expect(result.status).toBe('succeeded')
    expect(byId(result, 'host-1')?.timings.hold).toBe(30_000)
  })
})

describe('verify is against the plan', () => {
  it('a planned target no longer in service at the end is listed and the rollout does not succeed', async () => {
    const fx = setup({ size: 3 })
    const run = fx.run({ settle: POLL })
    run.on('batch:end', ({ index }) => {
      if (index === 2) fx.fleet.lb.remove('host-1')
    })
    const result = await run
    expect(result.status).toBe('failed')
    expect(result.reason).toMatch(/1 planned target\(s\) no longer in service: host-1/)
    expect(ids(result.needsAttention)).toEqual(['host-1'])
    expect(kinds(result)).toEqual(['left-out:host-1'])
  })

  it('a succeeded rollout with a skipped host names it in warnings', async () => {
    const fx = setup({ size: 3 })
    fx.fleet.unhealthyBefore('host-2')
    const result = await fx.run({ settle: POLL, verify: false })
    expect(result.status).toBe('succeeded')
    expect(result.warnings).toEqual([expect.objectContaining({ kind: 'skipped', message: expect.stringMatching(/pre-check failed/) })])
  })
})

describe("the operator's state is respected", () => {
  it('excluded targets are not candidates; plan and the result list them', async () => {
    const fx = setup({ size: 3 })
    const host3 = fx.fleet.targets[2] as Target
    const lb = withLb(fx.fleet.lb, {
      async discover(ctx) {
        return (await fx.fleet.lb.discover(ctx)).filter((t) => t.id !== 'host-3')
      },
      async inventory(ctx) {
        return {
          targets: (await fx.fleet.lb.discover(ctx)).filter((t) => t.id !== 'host-3'),
          excluded: [{ target: host3, reason: 'MAINT set by an operator' }],
        }
      },
    })
    const dry = await plan(fx.options({ loadBalancer: lb }))
    expect(dry.excluded).toEqual([{ target: host3, reason: 'MAINT set by an operator' }])
    expect(ids(dry.candidates)).toEqual(['host-1', 'host-2'])
    const result = await fx.run({ loadBalancer: lb, settle: POLL })
    expect(result.status).toBe('succeeded')
    expect(result.excluded.map((e) => e.target.id)).toEqual(['host-3'])
    expect(kinds(result)).toEqual(['excluded:host-3'])
    expect(fx.fleet.hosts.get('host-3')?.version).toBe('v1')
  })

  it('a target found out by someone else at its detach is skipped and never put back', async () => {
    const fx = setup({ size: 4 })
    const attached: string[] = []
    const lb = withLb(fx.fleet.lb, {
      async detach(targets, ctx): Promise<DetachResult> {
        const theirs = targets.filter((t) => t.id === 'host-3')
        await fx.fleet.lb.detach(
          targets.filter((t) => t.id !== 'host-3'),
          ctx,
        )
        return { foreign: theirs.map((target) => ({ target, reason: 'MAINT set by an operator' })) }
      },
      async attach(targets, ctx) {
        attached.push(...targets.map((t) => t.id))
        await fx.fleet.lb.attach(targets, ctx)
      },
    })
    const result = await fx.run({ loadBalancer: lb, batch: 2, settle: POLL, verify: false })
    expect(result.status).toBe('succeeded')
    expect(byId(result, 'host-3')).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/taken out of service by someone else \(MAINT set by an operator\)/),
    })
    expect(attached).not.toContain('host-3')
    expect(fx.fleet.hosts.get('host-3')?.version).toBe('v1')
    expect(kinds(result)).toEqual(['skipped:host-3'])
  })

  it('a target whose state someone changed while it was out is left as found and listed', async () => {
    const fx = setup({ size: 2 })
    const lb = withLb(fx.fleet.lb, {
      async attach(targets, ctx): Promise<AttachResult> {
        await fx.fleet.lb.attach(
          targets.filter((t) => t.id !== 'host-1'),
          ctx,
        )
        return { foreign: targets.filter((t) => t.id === 'host-1').map((target) => ({ target, reason: 'DRAIN set by an operator' })) }
      },
    })
    const result = await fx.run({ loadBalancer: lb, settle: POLL, verify: false })
    expect(byId(result, 'host-1')).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/deployed v2.*someone else changed its state.*DRAIN set by an operator.*left as found/),
    })
    expect(ids(result.needsAttention)).toEqual(['host-1'])
    expect(fx.fleet.lb.inService('host-1')).toBe(false)
  })
})

describe('a drain that does not finish', () => {
  const undrained = (fx: ReturnType<typeof setup>, mode: 'undrained' | 'forced') =>
    withLb(fx.fleet.lb, {
      async detach(targets, ctx): Promise<DetachResult> {
        expect(ctx.drain?.onTimeout).toBe(mode === 'undrained' ? 'halt' : 'proceed')
        await fx.fleet.lb.detach(targets, ctx)
        return { [mode]: targets.filter((t) => t.id === 'host-2').map((target) => ({ target, reason: '1 connection left' })) }
      },
    })

  it("drain.onTimeout 'halt': the host is named, put back on its old build, its batch-mate deploys, nothing more starts", async () => {
    const fx = setup({ size: 4 })
    const result = await fx.run({ loadBalancer: undrained(fx, 'undrained'), batch: 2, settle: POLL, drain: { timeout: 5000 } })
    expect(result.status).toBe('halted')
    expect(result.reason).toMatch(/host-2 .*did not drain in time \(1 connection left\): put back in service on its old build/)
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'skipped', 'host-3': 'pending', 'host-4': 'pending' })
    expect(fx.fleet.lb.inService('host-2')).toBe(true)
    expect(fx.fleet.hosts.get('host-2')?.version).toBe('v1')
    expect(fx.fleet.hosts.get('host-1')?.version).toBe('v2')
  })

  it("drain.onTimeout 'proceed': a warning, then the deploy", async () => {
    const fx = setup({ size: 2 })
    const warned: string[] = []
    const run = fx.run({ loadBalancer: undrained(fx, 'forced'), batch: 2, settle: POLL, drain: { onTimeout: 'proceed' } })
    run.on('warning', ({ message, target }) => warned.push(`${target?.id}: ${message}`))
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(warned.some((w) => /^host-2: .*remaining connections were closed \(1 connection left\)/.test(w))).toBe(true)
    expect(kinds(result)).toEqual(['forced-drain:host-2'])
    expect(fx.fleet.hosts.get('host-2')?.version).toBe('v2')
  })
})

describe('abort during a polling settle', () => {
  it('a host still on v1 when the abort comes is restored, not done', async () => {
    const fx = setup({ size: 2 })
    fx.fleet.ignoreDeploy('host-1')
    const controller = new AbortController()
    const run = fx.run({ settle: { interval: 1000, successes: 3 }, signal: controller.signal })
    run.on('target:deployed', () => {
      fx.clock.setTimeout(() => controller.abort(), 1500)
    })
    const result = await run
    expect(result.status).toBe('aborted')
    expect(byId(result, 'host-1')).toMatchObject({ outcome: 'restored', reason: expect.stringMatching(/aborted during settle; healthy on v1/) })
    expect(fx.fleet.lb.inService('host-1')).toBe(true)
  })
})

describe('re-running a deploy', () => {
  it('skips targets already on the build without detaching them; plan names them; redeploy: true deploys them', async () => {
    const fx = setup({ size: 3 })
    const first = await fx.run({
      settle: POLL,
      batch: 2,
      hooks: {
        beforeBatch: ({ index }) => {
          if (index === 1) throw new Error('stop here')
        },
      },
    })
    expect(first.status).toBe('halted')
    const dry = await plan(fx.options())
    expect(ids(dry.current)).toEqual(['host-1', 'host-2'])
    const again = await resumeFree(fx).run({ settle: POLL, batch: 2 })
    expect(again.status).toBe('succeeded')
    expect(outcomes(again)).toEqual({ 'host-1': 'skipped', 'host-2': 'skipped', 'host-3': 'done' })
    expect(byId(again, 'host-1')?.reason).toMatch(/^already on v2/)
    expect(again.warnings).toEqual([])
    const detached = fx.fleet.lb.calls.filter((c) => c.op === 'detach').flatMap((c) => c.ids)
    expect(detached).toEqual(['host-1', 'host-2', 'host-3'])
    const forced = await resumeFree(fx).run({ settle: POLL, batch: 3, redeploy: true })
    expect(Object.values(outcomes(forced))).toEqual(['done', 'done', 'done'])
    expect((await plan(fx.options({ redeploy: true }))).current).toEqual([])
  })
})

describe('resume keeps the truth', () => {
  it('a target interrupted while attaching as unverified is resumed as unverified, not done', async () => {
    const fx = setup({ size: 1 })
    fx.fleet.hideBuild('host-1')
    let calls = 0
    fx.fleet.lb.onAttach = () => (++calls === 1 ? new Promise<never>(() => {}) : undefined)
    void fx.run({ settle: POLL })
    await new Promise((r) => setTimeout(r, 100))
    const journal = memoryJournal()
    for (const record of fx.journal.records) journal.append(record)
    expect(journal.records.at(-1)).toMatchObject({ s: 'attaching', o: 'unverified' })
    fx.fleet.lb.onAttach = undefined
    const result = await resume({ ...fx.options({ batch: undefined }), journal, lock: memoryLock(), verify: false } as never)
    expect(byId(result, 'host-1')?.outcome).toBe('unverified')
  })
})

/** A second rollout of the fleet with a fresh journal and lock (the first one ended). */
function resumeFree(fx: ReturnType<typeof setup>) {
  return { run: (extra: Parameters<typeof fx.options>[0]) => fx.run({ ...extra, journal: memoryJournal(), lock: memoryLock() }) }
}

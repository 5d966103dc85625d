// Each rule of the rollout (DESIGN.md "The rollout") has its own test here,
// run over an in-memory fleet on a fake clock: a 60 s settle costs no real time.
import { describe, expect, it } from 'vitest'
import type { HealthCheck, RolloutResult } from '@org/rolling-core'
import { CONFIRM_POLL_MS } from '../../src/phases/settle.js'
import { outcomes, setup } from './_fixture.js'

/** Targets in each batch, from the batch:start events. */
function batchSizesOf(run: { on: (e: 'batch:start', l: (p: { targets: readonly unknown[] }) => void) => unknown }): number[] {
  const sizes: number[] = []
  run.on('batch:start', ({ targets }) => sizes.push(targets.length))
  return sizes
}

/** The safety property: a target once detached ends in service, stopped, or listed. */
function expectNoneLost(fx: ReturnType<typeof setup>, result: RolloutResult): void {
  const detached = new Set(fx.fleet.lb.calls.filter((c) => c.op === 'detach').flatMap((c) => c.ids))
  const listed = new Set(result.needsAttention.map((t) => t.id))
  for (const id of detached) {
    const report = result.targets.find((r) => r.target.id === id)
    const ok = fx.fleet.lb.inService(id) || listed.has(id) || report?.outcome === 'stopped'
    expect(ok, `${id} was detached and is neither in service nor listed (outcome ${report?.outcome})`).toBe(true)
  }
}

describe('batches', () => {
  it('deploys one target at a time by default', async () => {
    const fx = setup({ size: 5 })
    const run = fx.run()
    const sizes = batchSizesOf(run)
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(sizes).toEqual([1, 1, 1, 1, 1])
    expect(fx.fleet.lb.maxOutOfService).toBe(1)
    expect(fx.fleet.versions().get('v2')).toBe(5)
  })

  it('rounds percentages up', async () => {
    const fx = setup({ size: 10 })
    const run = fx.run({ batch: '25%' })
    const sizes = batchSizesOf(run)
    expect((await run).status).toBe('succeeded')
    expect(sizes).toEqual([3, 3, 3, 1])
  })

  it('follows a canary schedule whose last entry repeats', async () => {
    const fx = setup({ size: 20 })
    const run = fx.run({ batch: [1, '10%', '50%'] })
    const sizes = batchSizesOf(run)
    expect((await run).status).toBe('succeeded')
    expect(sizes).toEqual([1, 2, 10, 7])
  })

  it('never takes more targets out of service than the batch', async () => {
    const fx = setup({ size: 12 })
    const result = await fx.run({ batch: 3 })
    expect(result.status).toBe('succeeded')
    expect(fx.fleet.lb.maxOutOfService).toBe(3)
    // One detach and one attach call per batch.
    expect(fx.fleet.lb.calls.filter((c) => c.op === 'detach').map((c) => c.ids.length)).toEqual([3, 3, 3, 3])
  })

  it('caps every batch so minHealthy stay in service', async () => {
    const fx = setup({ size: 10 })
    const run = fx.run({ batch: 5, minHealthy: 7 })
    const sizes = batchSizesOf(run)
    expect((await run).status).toBe('succeeded')
    expect(sizes).toEqual([3, 3, 3, 1])
    expect(fx.fleet.lb.maxOutOfService).toBe(3)
  })

  it('refuses an empty pool', async () => {
    const fx = setup({ size: 1 })
    fx.fleet.lb.remove('host-1')
    await expect(fx.run()).rejects.toMatchObject({ code: 'EMPTY_POOL' })
  })
})

describe('settle', () => {
  it('waits 60 s after the deploy by default, in no real time', async () => {
    const fx = setup({ size: 2 })
    const started = performance.now()
    const result = await fx.run()
    expect(result.targets.map((r) => r.timings.settle)).toEqual([60_000, 60_000])
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('polls _status when asked, needing consecutive successes', async () => {
    const fx = setup({ size: 1 })
    const result = await fx.run({ settle: { interval: 500, successes: 3, deadline: 10_000 } })
    expect(result.status).toBe('succeeded')
    // The two confirming checks follow the first pass CONFIRM_POLL_MS apart, not `interval`.
    expect(result.targets[0]?.timings.settle).toBe(2 * CONFIRM_POLL_MS)
  })

  it("polls at the app's pace: settle ends within 50 ms of the app answering, whatever the interval", async () => {
    for (const startupMs of [0, 480, 500, 537, 1_990]) {
      const fx = setup({ size: 1 })
      // The new build answers from `startupMs` after its first check (the restart returned).
      let firstCheck: number | undefined
      const base = fx.fleet.health
      const booting: HealthCheck = {
        name: 'booting',
        async check(target, ctx) {
          const health = await base.check(target, ctx)
          if (health.version !== 'v2') return health
          firstCheck ??= fx.clock.now()
          return fx.clock.now() - firstCheck >= startupMs ? health : { ok: false, detail: 'connection refused' }
        },
      }
      const result = await fx.run({ healthCheck: booting, settle: { interval: 500, successes: 3, deadline: 10_000 } })
      expect(result.status).toBe('succeeded')
      const settle = result.targets[0]?.timings.settle ?? Number.NaN
      expect(settle, `start-up ${startupMs} ms`).toBeGreaterThanOrEqual(startupMs)
      expect(settle - startupMs, `start-up ${startupMs} ms`).toBeLessThanOrEqual(50)
    }
  })

  it('tells the attach when settle saw each target pass (seenHealthy), so the load balancer need not wait for the same proof', async () => {
    const fx = setup({ size: 2 })
    const seen: (ReadonlyMap<string, number> | undefined)[] = []
    const passedAt: number[] = []
    const attach = fx.fleet.lb.attach.bind(fx.fleet.lb)
    fx.fleet.lb.attach = (targets, ctx) => {
      seen.push(ctx.seenHealthy)
      return attach(targets, ctx)
    }
    const run = fx.run({ batch: 2, settle: { interval: 100, successes: 2 } })
    run.on('target:healthy', () => void passedAt.push(fx.clock.now()))
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(seen).toHaveLength(1)
    expect([...(seen[0]?.entries() ?? [])].sort()).toEqual([
      ['host-1', passedAt[0]],
      ['host-2', passedAt[1]],
    ])
  })

  it('a target that fails after passing (flapping) is polled every `interval` again', async () => {
    const fx = setup({ size: 1 })
    const checks: number[] = []
    let n = 0
    const base = fx.fleet.health
    const flapping: HealthCheck = {
      name: 'flapping',
      async check(target, ctx) {
        const health = await base.check(target, ctx)
        if (health.version !== 'v2') return health
        checks.push(fx.clock.now())
        n++
        // pass, fail, then passes for good
        return n === 2 ? { ok: false, detail: 'status 500', status: 500 } : health
      },
    }
    const result = await fx.run({ healthCheck: flapping, settle: { interval: 300, successes: 2, deadline: 10_000 } })
    expect(result.status).toBe('succeeded')
    const gaps = checks.slice(1).map((t, i) => t - (checks[i] as number))
    // The settle's four checks (verify asks again later).
    expect(gaps.slice(0, 3)).toEqual([CONFIRM_POLL_MS, 300, CONFIRM_POLL_MS])
  })
})

describe('pre-check', () => {
  it('asks the executor to connect at the pre-check, before the detach; a failed connect is left to the step that needs it', async () => {
    const fx = setup({ size: 2 })
    const log: string[] = []
    fx.fleet.lb.onDetach = (targets) => void log.push(`detach ${targets.map((t) => t.id).join(',')}`)
    const executor = {
      ...fx.fleet.executor,
      run: fx.fleet.executor.run.bind(fx.fleet.executor),
      async connect(target: { id: string }) {
        log.push(`connect ${target.id}`)
        throw new Error('connection refused')
      },
    }
    const result = await fx.run({ executor, verify: false })
    expect(result.status).toBe('succeeded')
    expect(log).toEqual(['connect host-1', 'detach host-1', 'connect host-2', 'detach host-2'])
  })

  it('skips a target whose _status is not 200 and leaves it untouched', async () => {
    const fx = setup({ size: 3 })
    fx.fleet.unhealthyBefore('host-2')
    const result = await fx.run({ verify: false })
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'skipped', 'host-3': 'done' })
    expect(result.targets[1]?.reason).toMatch(/pre-check failed: status 503/)
    expect(fx.fleet.lb.calls.some((c) => c.op !== 'discover' && c.ids.includes('host-2'))).toBe(false)
    expect(fx.fleet.executor.commands.some((c) => c.targetId === 'host-2')).toBe(false)
    expect(fx.fleet.hosts.get('host-2')?.version).toBe('v1')
  })

  it('skips a target that does not answer in time', async () => {
    const fx = setup({ size: 2 })
    const hanging: HealthCheck = {
      name: 'hanging',
      check: (target, ctx) =>
        target.id === 'host-1' && fx.fleet.hosts.get('host-1')?.version === 'v1'
          ? new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))
          : fx.fleet.health.check(target, ctx),
    }
    const result = await fx.run({ healthCheck: hanging, timeouts: { precheck: 3_000 }, verify: false })
    expect(outcomes(result)).toEqual({ 'host-1': 'skipped', 'host-2': 'done' })
    expect(result.targets[0]?.reason).toMatch(/did not finish within 3s/)
    expect(fx.fleet.lb.calls.some((c) => c.op === 'detach' && c.ids.includes('host-1'))).toBe(false)
  })
})

describe('a failed post-deploy check', () => {
  it('halts after the current batch and leaves the target out for verification', async () => {
    const fx = setup({ size: 6 })
    fx.fleet.breakAfterDeploy('host-3')
    const result = await fx.run({ batch: 2 })
    expect(result.status).toBe('halted')
    expect(outcomes(result)).toEqual({
      'host-1': 'done',
      'host-2': 'done',
      'host-3': 'failed',
      'host-4': 'done',
      'host-5': 'pending',
      'host-6': 'pending',
    })
    expect(result.needsAttention.map((t) => t.id)).toEqual(['host-3'])
    expect(result.reason).toMatch(/host-3/)
    expect(fx.fleet.lb.inService('host-3')).toBe(false)
    expect(fx.fleet.lb.inService('host-4')).toBe(true)
    expect(fx.fleet.hosts.get('host-5')?.version).toBe('v1')
    expectNoneLost(fx, result)
  })

  it("rolls the target back and puts it back with onFailure: 'rollback'", async () => {
    const fx = setup({ size: 4 })
    fx.fleet.breakAfterDeploy('host-2')
    const run = fx.run({ onFailure: 'rollback' })
    const rolledBack: string[] = []
    run.on('target:rolled-back', ({ target }) => rolledBack.push(target.id))
    const result = await run
    expect(result.status).toBe('halted')
    expect(outcomes(result)['host-2']).toBe('rolled-back')
    expect(rolledBack).toEqual(['host-2'])
    expect(fx.fleet.lb.inService('host-2')).toBe(true)
    expect(fx.fleet.hosts.get('host-2')?.version).toBe('v1')
    expect(result.needsAttention).toEqual([])
  })
})

describe('verify', () => {
  // With settle.requireBuild on (the default) such targets fail settle instead: truth.test.ts.
  it('stops targets that kept the old build and still succeeds at 2', async () => {
    const fx = setup({ size: 6 })
    fx.fleet.ignoreDeploy('host-2')
    fx.fleet.ignoreDeploy('host-5')
    const run = fx.run({ batch: 2, settle: { requireBuild: false } })
    const mismatches: string[] = []
    run.on('verify:mismatch', ({ target, actual }) => mismatches.push(`${target.id}:${actual.version}`))
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(mismatches.sort()).toEqual(['host-2:v1', 'host-5:v1'])
    expect(outcomes(result)['host-2']).toBe('stopped')
    expect(fx.fleet.lb.inService('host-2')).toBe(false)
    expect(fx.fleet.hosts.get('host-2')?.running).toBe(false)
    expectNoneLost(fx, result)
  })

  it('fails with 4 stopped under the default maxStopped of 3', async () => {
    const fx = setup({ size: 8 })
    for (const id of ['host-1', 'host-3', 'host-5', 'host-7']) fx.fleet.ignoreDeploy(id)
    const result = await fx.run({ batch: 4, settle: { requireBuild: false } })
    expect(result.status).toBe('failed')
    expect(result.reason).toMatch(/4 target\(s\) ran the wrong build, more than maxStopped \(3\)/)
    expect(result.targets.filter((r) => r.outcome === 'stopped')).toHaveLength(4)
  })

  it('checks targets autoscaling added during the rollout', async () => {
    const fx = setup({ size: 3 })
    const added: string[] = []
    const result = await fx.run({
      hooks: {
        afterBatch: ({ index }) => {
          if (index === 0) added.push(fx.fleet.addHost('v1').id, fx.fleet.addHost('v2').id)
        },
      },
    })
    expect(result.status).toBe('succeeded')
    const [old, fresh] = added as [string, string]
    const byId = Object.fromEntries(result.targets.map((r) => [r.target.id, r]))
    expect(byId[old]).toMatchObject({ outcome: 'stopped', batch: -1 })
    expect(byId[fresh]).toMatchObject({ outcome: 'done', batch: -1, version: 'v2' })
    expect(fx.fleet.lb.inService(old)).toBe(false)
  })
})

describe('abort', () => {
  async function abortDuring(where: 'drain' | 'deploy' | 'settle') {
    const fx = setup({ size: 6 })
    const controller = new AbortController()
    let batches = 0
    if (where === 'drain') {
      fx.fleet.lb.onDetach = () => {
        if (++batches === 2) controller.abort()
      }
    }
    const run = fx.run({ batch: 2, signal: controller.signal })
    if (where === 'deploy') run.on('target:deploying', ({ target }) => target.id === 'host-3' && controller.abort())
    if (where === 'settle') run.on('target:deployed', ({ target }) => target.id === 'host-3' && controller.abort())
    const result = await run
    expect(result.status).toBe('aborted')
    expectNoneLost(fx, result)
    // Batch 3 never started.
    expect(outcomes(result)['host-5']).toBe('pending')
    expect(fx.fleet.lb.inService('host-5')).toBe(true)
    return { fx, result }
  }

  it('during drain: no deploy starts, the detached targets go back', async () => {
    const { fx, result } = await abortDuring('drain')
    expect(outcomes(result)).toMatchObject({ 'host-3': 'restored', 'host-4': 'restored' })
    expect(fx.fleet.hosts.get('host-3')?.version).toBe('v1')
    expect(fx.fleet.lb.inService('host-3')).toBe(true)
  })

  it('during deploy: in-flight deploys finish and healthy targets go back', async () => {
    const { fx, result } = await abortDuring('deploy')
    expect(['done', 'restored']).toContain(outcomes(result)['host-3'])
    expect(fx.fleet.lb.inService('host-3')).toBe(true)
  })

  it('during settle: the settle wait is cut short, healthy targets go back as restored', async () => {
    const { fx, result } = await abortDuring('settle')
    // Healthy on v2, but the settle it was asked for never ran its course: not `done`.
    expect(outcomes(result)['host-3']).toBe('restored')
    expect(fx.fleet.lb.inService('host-3')).toBe(true)
    expect(result.targets[2]?.timings.settle).toBeLessThan(60_000)
  })

  it('during settle: an unhealthy target is listed, not silently lost', async () => {
    const fx = setup({ size: 4 })
    fx.fleet.breakAfterDeploy('host-1')
    const controller = new AbortController()
    const run = fx.run({ signal: controller.signal })
    run.on('target:deployed', () => controller.abort())
    const result = await run
    expect(result.status).toBe('aborted')
    expect(result.needsAttention.map((t) => t.id)).toEqual(['host-1'])
    expectNoneLost(fx, result)
  })
})

describe('hooks', () => {
  it('a beforeBatch veto halts before the batch is touched', async () => {
    const fx = setup({ size: 4 })
    const result = await fx.run({
      hooks: {
        beforeBatch: ({ index }) => {
          if (index === 2) throw new Error('change freeze')
        },
      },
    })
    expect(result.status).toBe('halted')
    expect(result.reason).toMatch(/beforeBatch hook vetoed: change freeze/)
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'done', 'host-3': 'pending', 'host-4': 'pending' })
    expect(fx.fleet.lb.maxOutOfService).toBe(1)
  })

  it('a beforeTarget veto skips the target untouched', async () => {
    const fx = setup({ size: 3 })
    const result = await fx.run({
      verify: false,
      hooks: {
        beforeTarget: ({ target }) => {
          if (target.id === 'host-2') throw new Error('not this one')
        },
      },
    })
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'skipped', 'host-3': 'done' })
  })

  it('a beforeAttach veto (a failed smoke test) leaves the target out and halts', async () => {
    const fx = setup({ size: 3 })
    const result = await fx.run({
      hooks: {
        beforeAttach: ({ target }) => {
          if (target.id === 'host-1') throw new Error('smoke test failed')
        },
      },
    })
    expect(result.status).toBe('halted')
    expect(result.needsAttention.map((t) => t.id)).toEqual(['host-1'])
    expect(fx.fleet.lb.inService('host-1')).toBe(false)
  })

  it('a hook may pause the rollout (an approval gate)', async () => {
    const fx = setup({ size: 2 })
    let approve!: () => void
    const approved = new Promise<void>((resolve) => (approve = resolve))
    const run = fx.run({ hooks: { beforeBatch: ({ index }) => (index === 1 ? approved : undefined) } })
    let second = false
    run.on('batch:start', ({ index }) => (second ||= index === 1))
    await new Promise((r) => setTimeout(r, 50))
    expect(second).toBe(false)
    approve()
    expect((await run).status).toBe('succeeded')
    expect(second).toBe(true)
  })
})

describe('artifact, lock and journal', () => {
  it('refuses a corrupt build before any target is touched', async () => {
    const fx = setup({ size: 2 })
    fx.fleet.artifacts.corrupt('app', 'v2')
    await expect(fx.run()).rejects.toMatchObject({ code: 'ARTIFACT_INTEGRITY' })
    expect(fx.fleet.lb.calls.filter((c) => c.op !== 'discover')).toEqual([])
    expect(fx.fleet.executor.commands).toEqual([])
  })

  it('refuses a second rollout of the same service, naming the holder', async () => {
    const fx = setup({ size: 2 })
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const first = fx.run({ runId: 'first-run', hooks: { beforeBatch: () => held } })
    await new Promise((r) => setTimeout(r, 20))
    await expect(fx.run({ runId: 'second-run' })).rejects.toThrow(/already being rolled out by run first-run .* since 20/)
    release()
    expect((await first).status).toBe('succeeded')
  })

  it('refuses to start over an unfinished journal', async () => {
    const fx = setup({ size: 2 })
    fx.journal.append({ type: 'start', runId: 'crashed', at: '2026-11-26T00:00:00.000Z' })
    await expect(fx.run()).rejects.toThrow(/unfinished rollout of app \(run crashed/)
  })

  it('streams command output as target:output events', async () => {
    const fx = setup({ size: 1 })
    const run = fx.run()
    const chunks: string[] = []
    run.on('target:output', ({ chunk }) => chunks.push(chunk))
    await run
    expect(chunks.join('')).toContain('installed v2')
  })
})

describe('prepare', () => {
  it('runs while the target is still in service, before the detach', async () => {
    const fx = setup({ size: 3 })
    const seen: string[] = []
    const recipe = {
      ...fx.fleet.recipe,
      prepare: async ({ target }: { target: { id: string } }) => {
        seen.push(`${target.id}:${fx.fleet.lb.inService(target.id) ? 'in' : 'out'}`)
      },
    }
    const result = await fx.run({ deploy: recipe })
    expect(result.status).toBe('succeeded')
    expect(seen).toEqual(['host-1:in', 'host-2:in', 'host-3:in'])
    expect(result.targets[0]?.timings.prepare).toBeGreaterThanOrEqual(0)
  })

  it('a failed prepare skips the target untouched and halts after the batch', async () => {
    const fx = setup({ size: 4 })
    const recipe = {
      ...fx.fleet.recipe,
      prepare: async ({ target }: { target: { id: string } }) => {
        if (target.id === 'host-2') throw new Error('download failed: 403')
      },
    }
    const result = await fx.run({ deploy: recipe, batch: 2 })
    expect(result.status).toBe('halted')
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'skipped', 'host-3': 'pending', 'host-4': 'pending' })
    expect(result.reason).toMatch(/host-2 \(\S+\): prepare failed \(still in service, untouched\): download failed: 403/)
    expect(fx.fleet.lb.calls.some((c) => c.op === 'detach' && c.ids.includes('host-2'))).toBe(false)
    expect(fx.fleet.hosts.get('host-2')?.version).toBe('v1')
  })

  it('prepares the next batch once the current one is detached (while it deploys and settles), skipping sick hosts', async () => {
    const fx = setup({ size: 4 })
    fx.fleet.unhealthyBefore('host-4')
    const log: string[] = []
    fx.fleet.lb.onAttach = (targets) => {
      log.push(`attach ${targets.map((t) => t.id).join(',')}`)
    }
    fx.fleet.lb.onDetach = (targets) => {
      log.push(`detach ${targets.map((t) => t.id).join(',')}`)
    }
    const recipe = {
      ...fx.fleet.recipe,
      prepare: async ({ target }: { target: { id: string } }) => {
        log.push(`prepare ${target.id}`)
      },
    }
    const run = fx.run({ deploy: recipe, batch: 2, verify: false })
    run.on('batch:start', ({ index }) => log.push(`batch ${index + 1}`))
    const result = await run
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'done', 'host-3': 'done', 'host-4': 'skipped' })
    expect(log).toEqual([
      'batch 1',
      'prepare host-1',
      'prepare host-2',
      'detach host-1,host-2',
      'prepare host-3',
      'attach host-1,host-2',
      'batch 2',
      'detach host-3',
      'attach host-3',
    ])
  })
})

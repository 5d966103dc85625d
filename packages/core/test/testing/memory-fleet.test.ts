import { describe, expect, it } from 'vitest'
import { FakeClock, memoryFleet, silentLogger, splitWords, type MemoryFleet } from '../../src/testing/index.js'
import type { AdapterContext, ExecRequest, Target } from '../../src/types.js'
import type { DeployArgs } from '../../src/recipe.js'
import { RollingError } from '../../src/errors.js'
import { sh } from '../../src/shell.js'

const ctxOf = (clock = new FakeClock()): AdapterContext => ({ signal: new AbortController().signal, clock, log: silentLogger })

// What the engine hands a recipe, reduced to what the fleet's recipe uses.
async function argsFor(fleet: MemoryFleet, target: Target, ctx: AdapterContext, ref = 'latest'): Promise<DeployArgs> {
  const artifact = await fleet.artifacts.resolve(fleet.service, ref, ctx)
  const location = await fleet.artifacts.locate(artifact, target, ctx)
  const run = (request: string | ExecRequest) => fleet.executor.run(target, request, ctx)
  const exec = async (request: string | ExecRequest) => {
    const result = await run(request)
    if (result.exitCode !== 0) throw new RollingError('EXEC_FAILED', `exit ${result.exitCode}: ${result.stderr}`)
    return result
  }
  return { target, artifact, location, exec, run, signal: ctx.signal, clock: ctx.clock, log: ctx.log, ctx }
}

describe('memoryFleet', () => {
  it('starts every host on the initial build, healthy and in service', async () => {
    const fleet = memoryFleet({ size: 3, version: 'v1' })
    const ctx = ctxOf()
    expect(fleet.targets.map((t) => `${t.id}@${t.address}:${t.port}`)).toEqual([
      'host-1@127.100.0.1:8080',
      'host-2@127.100.0.2:8080',
      'host-3@127.100.0.3:8080',
    ])
    const v1 = await fleet.artifacts.resolve('app', 'latest', ctx)
    expect(v1.version).toBe('v1')
    expect(await fleet.health.check(fleet.targets[0]!, ctx)).toMatchObject({ ok: true, status: 200, version: 'v1', builtAt: v1.builtAt })
    expect((await fleet.lb.discover(ctx)).length).toBe(3)
  })

  it('deploys, reports and rolls back through the recipe', async () => {
    const fleet = memoryFleet({ size: 2 })
    const ctx = ctxOf()
    const v2 = fleet.publish('v2')
    const [host] = fleet.targets
    const args = await argsFor(fleet, host!, ctx)
    await fleet.recipe.deploy(args)
    expect(fleet.hosts.get('host-1')).toMatchObject({ version: 'v2', builtAt: v2.builtAt, running: true, healthy: true })
    expect(await fleet.health.check(host!, ctx)).toMatchObject({ ok: true, version: 'v2' })
    expect(await fleet.recipe.version!(args)).toEqual({ version: 'v2', builtAt: v2.builtAt })
    expect(fleet.executor.commands[0]?.command).toBe(sh`rolling-app install v2 ${v2.builtAt} memory://app/v2`)
    await fleet.recipe.rollback!(args)
    expect(fleet.hosts.get('host-1')?.version).toBe('v1')
    expect(fleet.versions()).toEqual(new Map([['v1', 2]]))
  })

  it('breakAfterDeploy: the new build never gets healthy, rollback heals it', async () => {
    const fleet = memoryFleet({ size: 2 })
    const ctx = ctxOf()
    fleet.publish('v2')
    fleet.breakAfterDeploy('host-2')
    const host = fleet.targets[1]!
    expect((await fleet.health.check(host, ctx)).ok).toBe(true)
    const args = await argsFor(fleet, host, ctx)
    await fleet.recipe.deploy(args)
    expect(await fleet.health.check(host, ctx)).toMatchObject({ ok: false, status: 503, version: 'v2' })
    await fleet.recipe.rollback!(args)
    expect(await fleet.health.check(host, ctx)).toMatchObject({ ok: true, version: 'v1' })
  })

  it('unhealthyBefore: the pre-check fails until a deploy', async () => {
    const fleet = memoryFleet({ size: 2 })
    const ctx = ctxOf()
    fleet.unhealthyBefore('host-1')
    expect(await fleet.health.check(fleet.targets[0]!, ctx)).toMatchObject({ ok: false, status: 503 })
    expect((await fleet.health.check(fleet.targets[1]!, ctx)).ok).toBe(true)
    fleet.publish('v2')
    await fleet.recipe.deploy(await argsFor(fleet, fleet.targets[0]!, ctx))
    expect((await fleet.health.check(fleet.targets[0]!, ctx)).ok).toBe(true)
  })

  it('ignoreDeploy: the deploy succeeds but the host keeps its old build', async () => {
    const fleet = memoryFleet({ size: 1 })
    const ctx = ctxOf()
    fleet.publish('v2')
    fleet.ignoreDeploy('host-1')
    const args = await argsFor(fleet, fleet.targets[0]!, ctx)
    await fleet.recipe.deploy(args)
    expect(await fleet.health.check(fleet.targets[0]!, ctx)).toMatchObject({ ok: true, version: 'v1' })
    expect((await fleet.recipe.version!(args)).version).toBe('v1')
  })

  it('stop makes the host answer 503; unknown builds and commands fail', async () => {
    const fleet = memoryFleet({ size: 1 })
    const ctx = ctxOf()
    const host = fleet.targets[0]!
    await fleet.recipe.stop!(await argsFor(fleet, host, ctx))
    expect(await fleet.health.check(host, ctx)).toMatchObject({ ok: false, status: 503, detail: expect.stringContaining('stopped') })
    expect((await fleet.executor.run(host, 'rolling-app install v9', ctx)).exitCode).toBe(1)
    expect((await fleet.executor.run(host, 'rm -rf /', ctx)).exitCode).toBe(127)
    expect(() => fleet.breakAfterDeploy('host-404')).toThrow('host-404')
  })

  it('addHost registers an autoscaled host on a given build', async () => {
    const fleet = memoryFleet({ size: 2 })
    const ctx = ctxOf()
    fleet.publish('v0')
    const added = fleet.addHost('v0')
    expect(added.id).toBe('host-3')
    expect((await fleet.lb.discover(ctx)).map((t) => t.id)).toContain('host-3')
    expect((await fleet.health.check(added, ctx)).version).toBe('v0')
    expect(() => fleet.addHost('never')).toThrow('never')
  })

  it('takes drain, deploy and attach time on the clock', async () => {
    const clock = new FakeClock({ start: 0 })
    const fleet = memoryFleet({ size: 2, clock, drainMs: 30_000, deployMs: 5_000, attachMs: 10_000 })
    const ctx = ctxOf(clock)
    fleet.publish('v2')
    const host = fleet.targets[0]!
    await fleet.lb.detach([host], ctx)
    await fleet.recipe.deploy(await argsFor(fleet, host, ctx))
    await fleet.lb.attach([host], ctx)
    expect(clock.now()).toBe(45_000)
  })

  // About a second on a quiet machine; the bound is loose for loaded CI boxes, but any
  // per-call O(N) work (or O(listeners) on a shared signal) blows far past it.
  it('rolls 100,000 hosts in batches of 25% in reasonable real time', { timeout: 90_000 }, async () => {
    const started = performance.now()
    const clock = new FakeClock({ start: 0 })
    const fleet = memoryFleet({ size: 100_000, clock, drainMs: 5_000, attachMs: 2_000 })
    const ctx = ctxOf(clock)
    fleet.publish('v2')
    const all = await fleet.lb.discover(ctx)
    expect(all).toHaveLength(100_000)
    for (let i = 0; i < all.length; i += 25_000) {
      const batch = all.slice(i, i + 25_000)
      await fleet.lb.detach(batch, ctx)
      await Promise.all(batch.map(async (t) => fleet.recipe.deploy(await argsFor(fleet, t, ctx))))
      const healthy = await Promise.all(batch.map((t) => fleet.health.check(t, ctx)))
      expect(healthy.every((h) => h.ok && h.version === 'v2')).toBe(true)
      await fleet.lb.attach(batch, ctx)
    }
    expect(fleet.versions()).toEqual(new Map([['v2', 100_000]]))
    expect(fleet.lb.maxOutOfService).toBe(25_000)
    expect(performance.now() - started).toBeLessThan(60_000)
  })
})

describe('splitWords', () => {
  it('undoes shellQuote', () => {
    const values = ["it's", 'a b', '', '$(id)', 'x\ny', '"q"']
    expect(splitWords(sh`cmd ${values}`)).toEqual(['cmd', ...values])
    expect(splitWords(`a "b \\" c" d\\ e`)).toEqual(['a', 'b " c', 'd e'])
  })
})

// Attach: waits for real health checks to pass, fails fast on a target that stays
// unhealthy, and instance targets resolve to their private IP through DescribeInstances.
import { contractContext } from '@org/rolling-core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ElbError } from '../src/index.js'
import { AWS_HEALTH_CHECK, startSimulatedFleet } from './simulated.js'
import { startFixture, type Fixture } from './support.js'

describe('attach', () => {
  let f: Fixture
  beforeAll(async () => {
    f = await startFixture({ targets: 3, firstHost: 100, deregistrationDelayMs: 50 })
  })
  afterAll(() => f.stop())

  it('waits for the health checks of the new target to pass', async () => {
    const lb = f.lb()
    const ctx = contractContext()
    const [one] = await lb.discover(ctx)
    if (!one) throw new Error('no targets')
    await lb.detach([one], ctx)
    f.aws.resetCalls()
    await lb.attach([one], ctx)
    expect(f.aws.state('web', one.address, one.port)).toBe('healthy')
    expect(f.aws.count('DescribeTargetHealth')).toBeGreaterThanOrEqual(2)
  })

  it('fails fast naming the target and the reason when it stays unhealthy', async () => {
    const lb = f.lb({ unhealthyPolls: 3, attachTimeoutMs: 60_000 })
    const ctx = contractContext()
    const [, two] = await lb.discover(ctx)
    if (!two) throw new Error('no targets')
    await lb.detach([two], ctx)
    const server = f.fleet.targets.find((t) => t.host === two.address)
    if (!server) throw new Error('no server')
    server.status = 503
    const started = Date.now()
    const error = await lb.attach([two], ctx).catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(error).toBeInstanceOf(ElbError)
    expect((error as ElbError).reason).toBe('unhealthy')
    expect((error as Error).message).toContain(two.id)
    expect((error as Error).message).toContain('Target.ResponseCodeMismatch')
    server.status = 200
    // Still registered and `unhealthy` until 2 checks pass (~100 ms): poll slower than that.
    await f.lb({ pollMs: 100 }).attach([two], ctx)
    expect(f.aws.state('web', two.address, two.port)).toBe('healthy')
  })
})

describe('instance targets', () => {
  let f: Fixture
  beforeAll(async () => {
    f = await startFixture({ targets: 3, firstHost: 120, targetType: 'instance', deregistrationDelayMs: 50 })
  })
  afterAll(() => f.stop())

  it('resolves instance ids to private IPs with one DescribeInstances call', async () => {
    const lb = f.lb()
    const ctx = contractContext()
    f.aws.resetCalls()
    const all = await lb.discover(ctx)
    expect(f.aws.count('DescribeInstances')).toBe(1)
    expect(all.map((t) => t.address).sort()).toEqual(f.fleet.targets.map((t) => t.host).sort())
    for (const t of all) {
      expect(t.labels?.targetId).toMatch(/^i-0/)
      expect(t.labels?.instanceId).toBe(t.labels?.targetId)
      expect(t.id).toBe(`web/${t.labels?.targetId}:${t.port}`)
    }
    const [one] = all
    if (!one) throw new Error('no targets')
    await lb.detach([one], ctx)
    expect((await lb.discover(ctx)).map((t) => t.id)).not.toContain(one.id)
    await lb.attach([one], ctx)
    expect((await lb.discover(ctx)).map((t) => t.id)).toContain(one.id)
  })
})

describe('attach in simulated time with ALB health-check defaults', () => {
  it('fails a target that turns unhealthy (2 failed checks 30 s apart) after unhealthyPolls, naming the reason', async () => {
    let failing = ''
    const fleet = await startSimulatedFleet({
      targets: 3,
      probe: (address) =>
        address !== failing || { ok: false, reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [503]' },
    })
    try {
      const lb = fleet.lb()
      const ctx = contractContext({ clock: fleet.clock })
      const [one] = await lb.discover(ctx)
      if (!one) throw new Error('no targets')
      await lb.detach([one], ctx)
      failing = one.address
      const registered = fleet.clock.now()
      const error = await lb.attach([one], ctx).catch((e: unknown) => e)
      const took = fleet.clock.now() - registered
      expect((error as ElbError).reason).toBe('unhealthy')
      expect((error as Error).message).toContain(one.id)
      expect((error as Error).message).toContain('Target.ResponseCodeMismatch')
      // Unhealthy after the 2nd failed check (60 s), then 3 polls 5 s apart; long before
      // the 5 passing checks (150 s) a healthy target would need.
      expect(took).toBeGreaterThanOrEqual(AWS_HEALTH_CHECK.unhealthyThreshold * AWS_HEALTH_CHECK.intervalMs)
      expect(took).toBeLessThan(AWS_HEALTH_CHECK.healthyThreshold * AWS_HEALTH_CHECK.intervalMs)
      expect(fleet.aws.state('web', one.address, 8080)).toBe('unhealthy')
      lb.destroy()
    } finally {
      await fleet.close()
    }
  })
})

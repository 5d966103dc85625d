// Call counts: one Register/DeregisterTargets per group per batch, and DescribeTargetHealth
// calls that grow with the number of polls, not with the number of targets.
import { contractContext } from '@org/rolling-core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFixture, type Fixture } from './support.js'

describe('batches of 10 out of 20 targets', () => {
  let f: Fixture
  beforeAll(async () => {
    f = await startFixture({ targets: 20, firstHost: 30, deregistrationDelayMs: 300 })
  })
  afterAll(() => f.stop())

  it('detach and attach make one mutating call per batch and a bounded number of describes', async () => {
    const lb = f.lb({ pollMs: 50 })
    const ctx = contractContext()
    const all = await lb.discover(ctx)
    expect(all).toHaveLength(20)
    for (const batch of [all.slice(0, 10), all.slice(10)]) {
      f.aws.resetCalls()
      const started = Date.now()
      await lb.detach(batch, ctx)
      const drainMs = Date.now() - started
      const detachDescribes = f.aws.count('DescribeTargetHealth')
      expect(f.aws.count('DeregisterTargets')).toBe(1)
      // Every describe asks about the whole batch in one call.
      for (const call of f.aws.calls.filter((c) => c.action === 'DescribeTargetHealth')) expect(call.params['Targets.member.10.Id']).toBeDefined()
      // 1 state check + polls over ~300 ms at 50 ms growing 1.5x: far fewer than one per target.
      expect(detachDescribes).toBeLessThanOrEqual(8)
      expect(drainMs).toBeGreaterThanOrEqual(280)

      f.aws.resetCalls()
      await lb.attach(batch, ctx)
      const attachDescribes = f.aws.count('DescribeTargetHealth')
      expect(f.aws.count('RegisterTargets')).toBe(1)
      expect(attachDescribes).toBeLessThanOrEqual(10)
      console.log(`batch of 10: detach ${detachDescribes} DescribeTargetHealth in ${drainMs} ms, attach ${attachDescribes} DescribeTargetHealth`)
    }
    expect((await lb.discover(ctx)).map((t) => t.id).sort()).toEqual(all.map((t) => t.id).sort())
  })

  it('reads the deregistration delay once per group and looks the groups up once', async () => {
    const lb = f.lb()
    f.aws.resetCalls()
    const ctx = contractContext()
    const [a, b] = await lb.discover(ctx)
    if (!a || !b) throw new Error('no targets')
    await lb.detach([a], ctx)
    await lb.detach([b], ctx)
    await lb.attach([a, b], ctx)
    expect(f.aws.count('DescribeTargetGroups')).toBe(1)
    expect(f.aws.count('DescribeTargetGroupAttributes')).toBe(1)
  })

  it('spaces describe calls by the shared limiter', async () => {
    const lb = f.lb({ describeIntervalMs: 40 })
    f.aws.resetCalls()
    const ctx = contractContext()
    await Promise.all([lb.discover(ctx), lb.discover(ctx), lb.discover(ctx)])
    const at = f.aws.calls.filter((c) => c.action.startsWith('Describe')).map((c) => c.at)
    // Arrival times at the fake, not send times: scheduling on a busy machine can bring two
    // arrivals closer than they were sent. Without a limiter the gaps are ~1 ms.
    expect(at.length).toBeGreaterThanOrEqual(3)
    for (let i = 1; i < at.length; i++) expect((at[i] as number) - (at[i - 1] as number)).toBeGreaterThanOrEqual(20)
    expect((at.at(-1) as number) - (at[0] as number)).toBeGreaterThanOrEqual((at.length - 1) * 40 * 0.8)
  })
})

describe('two target groups', () => {
  let f: Fixture
  beforeAll(async () => {
    f = await startFixture({ targets: 6, firstHost: 60, groups: ['blue', 'green'], deregistrationDelayMs: 100 })
  })
  afterAll(() => f.stop())

  it('makes one DeregisterTargets and one RegisterTargets per group per batch', async () => {
    const lb = f.lb()
    const ctx = contractContext()
    const all = await lb.discover(ctx)
    expect(new Set(all.map((t) => t.labels?.targetGroup))).toEqual(new Set(['blue', 'green']))
    f.aws.resetCalls()
    await lb.detach(all.slice(0, 4), ctx)
    await lb.attach(all.slice(0, 4), ctx)
    expect(f.aws.count('DeregisterTargets')).toBe(2)
    expect(f.aws.count('RegisterTargets')).toBe(2)
    expect(new Set(f.aws.calls.filter((c) => c.action === 'DeregisterTargets').map((c) => c.params.TargetGroupArn)).size).toBe(2)
  })
})

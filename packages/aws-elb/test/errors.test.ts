// Errors and throttling: unknown groups and targets fail clearly before anything
// changes; throttled calls are retried until they pass.
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { ValidationError } from '@org/rolling-core'
import { contractContext } from '@org/rolling-core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ElbError, elbv2LoadBalancer } from '../src/index.js'
import { startFixture, type Fixture } from './support.js'

// A seeded generator so the throttled calls are the same on every run.
function seeded(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31
    return s / 2 ** 31
  }
}

describe('errors', () => {
  let f: Fixture
  beforeAll(async () => {
    f = await startFixture({ targets: 2, firstHost: 140, deregistrationDelayMs: 50 })
  })
  afterAll(() => f.stop())

  it('names an unknown target group', async () => {
    const lb = f.lb({ targetGroups: ['web', 'nope'] })
    const error = await lb.discover(contractContext()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ElbError)
    expect((error as ElbError).reason).toBe('unknown-target-group')
    expect((error as Error).message).toContain('nope')
  })

  it('names an unknown target group ARN', async () => {
    const arn = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/0123456789abcdef'
    const error = await f
      .lb({ targetGroups: [arn] })
      .discover(contractContext())
      .catch((e: unknown) => e)
    expect((error as ElbError).reason).toBe('unknown-target-group')
    expect((error as Error).message).toContain(arn)
  })

  it('rejects a target of another group before changing anything', async () => {
    const lb = f.lb()
    const ctx = contractContext()
    const [one] = await lb.discover(ctx)
    if (!one) throw new Error('no targets')
    f.aws.resetCalls()
    const error = await lb.detach([one, { id: 'other/10.0.0.1:80', address: '10.0.0.1', port: 80 }], ctx).catch((e: unknown) => e)
    expect((error as ElbError).reason).toBe('unknown-target-group')
    expect((error as Error).message).toContain('other/10.0.0.1:80')
    expect(f.aws.count('DeregisterTargets')).toBe(0)
  })

  it('validates options at the entry point', () => {
    expect(() => elbv2LoadBalancer({ targetGroups: [] })).toThrow(ValidationError)
    expect(() => elbv2LoadBalancer({ targetGroups: ['web'], pollMs: Number.NaN })).toThrow(/pollMs/)
    expect(() => elbv2LoadBalancer({ targetGroups: ['web'], unhealthyPolls: 0 })).toThrow(/unhealthyPolls/)
  })
})

describe('throttling', () => {
  let f: Fixture
  beforeAll(async () => {
    f = await startFixture({ targets: 4, firstHost: 160, deregistrationDelayMs: 100, random: seeded(42) })
  })
  afterAll(() => f.stop())

  it('still detaches and attaches with 30% of calls throttled', async () => {
    const lb = f.lb()
    const ctx = contractContext()
    const before = await lb.discover(ctx)
    f.aws.throttleRate = 0.3
    f.aws.resetCalls()
    const all = await lb.discover(ctx)
    await lb.detach(all.slice(0, 2), ctx)
    await lb.attach(all.slice(0, 2), ctx)
    const after = await lb.discover(ctx)
    const throttled = f.aws.calls.filter((c) => c.error === 'Throttling').length
    f.aws.throttleRate = 0
    expect(throttled).toBeGreaterThan(0)
    expect(after.map((t) => t.id).sort()).toEqual(before.map((t) => t.id).sort())
    expect(f.aws.count('DeregisterTargets', { succeeded: true })).toBe(1)
    expect(f.aws.count('RegisterTargets', { succeeded: true })).toBe(1)
    console.log(`throttling: ${throttled} of ${f.aws.calls.length} calls throttled`)
  })

  it('gives up after maxThrottleRetries', async () => {
    const lb = f.lb({ maxThrottleRetries: 2 })
    f.aws.throttleRate = 1
    const error = await lb.discover(contractContext()).catch((e: unknown) => e)
    f.aws.throttleRate = 0
    expect((error as ElbError).reason).toBe('throttled')
  })

  it('tries a throttled call maxThrottleRetries + 1 times, whatever the client retries itself', async () => {
    // One retry policy: a client with its own maxAttempts (5) does not multiply the adapter's.
    const client = new ElasticLoadBalancingV2Client({ ...f.aws.clientConfig, maxAttempts: 5 })
    try {
      const lb = f.lb({ client, maxThrottleRetries: 1 })
      f.aws.resetCalls()
      f.aws.throttleRate = 1
      const error = await lb.discover(contractContext()).catch((e: unknown) => e)
      f.aws.throttleRate = 0
      expect(error).toMatchObject({ reason: 'throttled', message: expect.stringContaining('after 2 attempts') })
      expect(f.aws.count('DescribeTargetGroups')).toBe(2)
    } finally {
      client.destroy()
    }
  })
})

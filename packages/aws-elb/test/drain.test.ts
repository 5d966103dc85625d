// Draining: detach waits out the group's deregistration delay, reports a target someone
// else already deregistered as foreign, and times out naming the target.
import { TimeoutError } from '@org/rolling-core'
import { contractContext } from '@org/rolling-core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFixture, type Fixture } from './support.js'

describe('draining', () => {
  let f: Fixture
  beforeAll(async () => {
    f = await startFixture({ targets: 3, firstHost: 80, deregistrationDelayMs: 600 })
  })
  afterAll(() => f.stop())

  it('resolves only after the deregistration delay', async () => {
    const lb = f.lb()
    const ctx = contractContext()
    const [one] = await lb.discover(ctx)
    if (!one) throw new Error('no targets')
    const started = Date.now()
    const detached = lb.detach([one], ctx)
    await new Promise((r) => setTimeout(r, 150))
    expect(f.aws.state('web', one.address, one.port)).toBe('draining')
    await detached
    expect(Date.now() - started).toBeGreaterThanOrEqual(580)
    expect(f.aws.state('web', one.address, one.port)).toBe('unused')
    await lb.attach([one], ctx)
  })

  it('reports a target found already draining as foreign: not deregistered again, not waited for', async () => {
    const lb = f.lb()
    const ctx = contractContext()
    const [, two] = await lb.discover(ctx)
    if (!two) throw new Error('no targets')
    f.aws.deregister('web', [{ id: two.address, port: two.port as number }])
    await new Promise((r) => setTimeout(r, 200))
    f.aws.resetCalls()
    const started = Date.now()
    const result = await lb.detach([two], ctx)
    expect(Date.now() - started).toBeLessThan(300)
    expect(f.aws.count('DeregisterTargets')).toBe(0)
    expect(result.foreign?.map((e) => e.target.id)).toEqual([two.id])
    expect(result.foreign?.[0]?.reason).toMatch(/^draining in target group web: deregistered by someone else \(not by rolling\)/)
    await new Promise((r) => setTimeout(r, 600))
    await lb.attach([two], ctx)
  })

  it('after a restart, a target the engine says this rollout began to detach is its own: waited for, not foreign', async () => {
    const lb = f.lb()
    const ctx = contractContext()
    const [, two] = await lb.discover(ctx)
    if (!two) throw new Error('no targets')
    // The rollout deregistered it, then crashed; resume detaches it again from a fresh instance.
    f.aws.deregister('web', [{ id: two.address, port: two.port as number }])
    f.aws.resetCalls()
    const result = await f.lb().detach([two], { ...ctx, resumedDetach: [two.id] })
    expect(result.foreign ?? []).toEqual([])
    expect(f.aws.count('DeregisterTargets')).toBe(0)
    expect(f.aws.state('web', two.address, two.port)).toBe('unused')
    // Found unused (the drain had ended): nothing to do, and still its own.
    expect((await f.lb().detach([two], { ...ctx, resumedDetach: [two.id] })).foreign ?? []).toEqual([])
    await lb.attach([two], ctx)
  })

  it('times out naming the target when the drain outlasts drainTimeoutMs', async () => {
    const lb = f.lb({ drainTimeoutMs: 150 })
    const ctx = contractContext()
    const [one] = await lb.discover(ctx)
    if (!one) throw new Error('no targets')
    const error = await lb.detach([one], ctx).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as Error).message).toContain(one.id)
    expect((error as Error).message).toContain('draining')
    await new Promise((r) => setTimeout(r, 600))
    await lb.attach([one], ctx)
  })

  it('caps the drain wait by the engine deadline', async () => {
    const lb = f.lb()
    const ctx = contractContext()
    const [one] = await lb.discover(ctx)
    if (!one) throw new Error('no targets')
    const error = await lb.detach([one], { ...ctx, deadline: Date.now() + 100 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    await new Promise((r) => setTimeout(r, 600))
    await lb.attach([one], ctx)
  })
})

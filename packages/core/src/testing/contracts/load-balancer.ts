// The shared contract suite for LoadBalancer adapters. Each test leaves the pool as it
// found it (detached targets are attached back), so one fixture serves the suite and a
// real backend is set up once.
import { beforeAll, expect } from 'vitest'
import type { AdapterContext, LoadBalancer, Target } from '../../types.js'
import { contractContext, contractSuite, isAbortRejection, randomSuffix, rejection, within, type ContractOptions } from './suite.js'

export interface LoadBalancerFixture {
  /** A pool with at least two targets in service. */
  lb: LoadBalancer
  /** Overrides for the context of every call (a fake clock, a logger). */
  ctx?: Partial<AdapterContext>
  teardown?(): Promise<void>
}

export const loadBalancerTests = {
  discover: 'discover lists at least two targets with unique ids and addresses',
  detach: 'detach takes a target out and leaves the others in service',
  attach: 'attach puts a detached target back in service',
  idempotent: 'detach and attach are idempotent',
  batch: 'detach and attach a batch of two in one call',
  aborted: 'detach with an aborted signal rejects and changes nothing',
  unknown: 'detach of an unknown target rejects naming it',
} as const

export type LoadBalancerTestName = (typeof loadBalancerTests)[keyof typeof loadBalancerTests]

export function testLoadBalancer(options: ContractOptions<LoadBalancerFixture, LoadBalancerTestName>): void {
  const t = loadBalancerTests
  contractSuite('LoadBalancer', t, options, (test, get) => {
    const ctx = (extra?: Partial<AdapterContext>) => contractContext(get().ctx, extra)
    const ids = async () => (await get().lb.discover(ctx())).map((target) => target.id).sort()
    let initial: Target[] = []

    beforeAll(async () => {
      initial = await get().lb.discover(ctx())
    })

    // Puts back whatever a test took out, even when its assertions failed.
    const withDetached = async (targets: Target[], fn: () => Promise<void>) => {
      try {
        await fn()
      } finally {
        await get()
          .lb.attach(targets, ctx())
          .catch(() => {})
      }
    }

    test(t.discover, async () => {
      expect(initial.length).toBeGreaterThanOrEqual(2)
      expect(new Set(initial.map((target) => target.id)).size).toBe(initial.length)
      for (const target of initial) {
        expect(typeof target.id).toBe('string')
        expect(target.id).not.toBe('')
        expect(typeof target.address).toBe('string')
        expect(target.address).not.toBe('')
      }
    })

    test(t.detach, async () => {
      const before = await ids()
      const [one] = initial
      if (!one) throw new Error('the pool has no targets')
      await withDetached([one], async () => {
        await get().lb.detach([one], ctx())
        expect(await ids()).toEqual(before.filter((id) => id !== one.id))
      })
    })

    test(t.attach, async () => {
      const before = await ids()
      const [one] = initial
      if (!one) throw new Error('the pool has no targets')
      await withDetached([one], async () => {
        await get().lb.detach([one], ctx())
        expect(await ids()).not.toContain(one.id)
        await get().lb.attach([one], ctx())
        const after = await get().lb.discover(ctx())
        expect(after.filter((target) => target.id === one.id)).toHaveLength(1)
        expect(after.map((target) => target.id).sort()).toEqual(before)
      })
    })

    test(t.idempotent, async () => {
      const before = await ids()
      const one = initial[1]
      if (!one) throw new Error('the pool has fewer than two targets')
      await withDetached([one], async () => {
        await get().lb.detach([one], ctx())
        await get().lb.detach([one], ctx())
        expect(await ids()).toEqual(before.filter((id) => id !== one.id))
        await get().lb.attach([one], ctx())
        await get().lb.attach([one], ctx())
        expect(await ids()).toEqual(before)
      })
    })

    test(t.batch, async () => {
      const before = await ids()
      const pair = initial.slice(0, 2)
      const pairIds = new Set(pair.map((target) => target.id))
      await withDetached(pair, async () => {
        await get().lb.detach(pair, ctx())
        expect(await ids()).toEqual(before.filter((id) => !pairIds.has(id)))
        await get().lb.attach(pair, ctx())
        expect(await ids()).toEqual(before)
      })
    })

    test(t.aborted, async () => {
      const [one] = initial
      if (!one) throw new Error('the pool has no targets')
      const controller = new AbortController()
      const reason = new Error('contract abort')
      controller.abort(reason)
      await withDetached([one], async () => {
        const error = await rejection(within(2000, 'detach with an aborted signal', get().lb.detach([one], ctx({ signal: controller.signal }))))
        expect(isAbortRejection(error, reason), `expected the abort reason or an AbortError, got ${String(error)}`).toBe(true)
        expect(await ids()).toContain(one.id)
      })
    })

    test(t.unknown, async () => {
      const before = await ids()
      const missing: Target = { id: `rolling-contract-missing-${randomSuffix()}`, address: '192.0.2.1', port: 8080 }
      const error = await rejection(within(10_000, 'detach of an unknown target', get().lb.detach([missing], ctx())))
      expect(error).toBeInstanceOf(Error)
      expect((error as Error).message).toContain(missing.id)
      expect(await ids()).toEqual(before)
    })
  })
}

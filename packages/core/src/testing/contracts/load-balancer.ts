// The shared contract suite for LoadBalancer adapters. Each test leaves the pool as it
// found it (detached targets are attached back), so one fixture serves the suite and a
// real backend is set up once. The checks are exported apart from the suite so a test can
// prove that a broken adapter fails them.
import { beforeAll, expect } from 'vitest'
import type { AdapterContext, DetachResult, LoadBalancer, Target } from '../../types.js'
import { contractContext, contractSuite, isAbortRejection, randomSuffix, rejection, within, type ContractOptions } from './suite.js'

/** What an operator does by hand: `maint` and `drain` take a target out, `ready` puts it back in service. */
export type LoadBalancerOperatorAction = 'maint' | 'drain' | 'ready'

export interface LoadBalancerFixture {
  /** A pool with at least two targets in service. */
  lb: LoadBalancer
  /**
   * A fresh adapter instance over the same load balancer, as `resume` makes one: nothing it
   * knows may come from `lb`'s memory. Required by `second-instance`.
   */
  instance?(): LoadBalancer
  /**
   * Opens a long request through the load balancer to `target` and resolves once the target
   * is serving it; the request stays open until `release()`. Required by `held-request`,
   * `drain-halt` and `drain-proceed`.
   */
  holdRequest?(target: Target): Promise<{ release(): void | Promise<void> }>
  /**
   * What an operator does on the load balancer by hand (HAProxy `disable server`, an ELBv2
   * DeregisterTargets by someone else); resolves once it took effect. Required by `operator-*`.
   */
  operator?(target: Target, action: LoadBalancerOperatorAction): Promise<void>
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
  'held-request': 'detach does not resolve while a request to the target is in flight',
  'second-instance': 'a target detached by one instance is attached by a fresh instance',
  'operator-detach': 'a target an operator took out is excluded and reported foreign at detach, not touched',
  'operator-attach': 'a target an operator took out while detached is left as found at attach',
  'drain-halt': "a drain timeout with onTimeout 'halt' resolves listing the target undrained",
  'drain-proceed': "a drain timeout with onTimeout 'proceed' resolves listing the target forced",
} as const

/** Stable keys for `skip` (`skip: ['held-request']`). */
export type LoadBalancerTestKey = keyof typeof loadBalancerTests
export type LoadBalancerTestName = (typeof loadBalancerTests)[LoadBalancerTestKey]

/** How long `held-request` keeps the request open before it expects detach still pending. */
const HOLD_MS = 600
/** The drain timeout of `drain-halt` / `drain-proceed`. */
const DRAIN_TIMEOUT_MS = 400

type Check = (f: LoadBalancerFixture, initial: readonly Target[]) => Promise<void>

const need = <K extends 'instance' | 'holdRequest' | 'operator'>(
  f: LoadBalancerFixture,
  hook: K,
  key: LoadBalancerTestKey,
): NonNullable<LoadBalancerFixture[K]> => {
  const fn = f[hook]
  if (!fn) throw new Error(`the fixture has no \`${hook}\` hook: add one, or skip '${key}' saying why the adapter cannot`)
  return fn.bind(f) as NonNullable<LoadBalancerFixture[K]>
}
const nth = (initial: readonly Target[], i: number): Target => {
  const target = initial[i]
  if (!target) throw new Error(`the pool has fewer than ${i + 1} targets`)
  return target
}
const ctxOf = (f: LoadBalancerFixture, extra?: Partial<AdapterContext>) => contractContext(f.ctx, extra)
const idsOf = async (f: LoadBalancerFixture, lb = f.lb) => (await lb.discover(ctxOf(f))).map((target) => target.id).sort()
const listed = (list: DetachResult['foreign'], target: Target) => (list ?? []).filter((entry) => entry.target.id === target.id)

// Puts back whatever a check took out, even when its assertions failed.
const withDetached = async (f: LoadBalancerFixture, targets: readonly Target[], fn: () => Promise<void>) => {
  try {
    await fn()
  } finally {
    await f.lb.attach(targets, ctxOf(f)).catch(() => {})
  }
}

const heldDetach = async (f: LoadBalancerFixture, one: Target, key: LoadBalancerTestKey, drain: 'halt' | 'proceed') => {
  const held = await need(f, 'holdRequest', key)(one)
  try {
    await withDetached(f, [one], async () => {
      const result =
        (await within(
          DRAIN_TIMEOUT_MS + 15_000,
          `detach with a ${DRAIN_TIMEOUT_MS}ms drain timeout`,
          f.lb.detach([one], ctxOf(f, { drain: { timeoutMs: DRAIN_TIMEOUT_MS, onTimeout: drain } })),
        )) || {}
      const list = drain === 'halt' ? result.undrained : result.forced
      const entry = listed(list, one)
      expect(entry, `expected ${one.id} in ${drain === 'halt' ? 'undrained' : 'forced'}, got ${JSON.stringify(result)}`).toHaveLength(1)
      expect(entry[0]?.reason).toContain(one.id)
      expect(await idsOf(f)).not.toContain(one.id)
      // The engine puts an undrained target back in service: attach must do it.
      await f.lb.attach([one], ctxOf(f))
      expect(await idsOf(f)).toContain(one.id)
    })
  } finally {
    await held.release()
  }
}

export const loadBalancerChecks: Record<LoadBalancerTestKey, Check> = {
  async discover(_f, initial) {
    expect(initial.length).toBeGreaterThanOrEqual(2)
    expect(new Set(initial.map((target) => target.id)).size).toBe(initial.length)
    for (const target of initial) {
      expect(typeof target.id).toBe('string')
      expect(target.id).not.toBe('')
      expect(typeof target.address).toBe('string')
      expect(target.address).not.toBe('')
    }
  },
  async detach(f, initial) {
    const before = await idsOf(f)
    const one = nth(initial, 0)
    await withDetached(f, [one], async () => {
      await f.lb.detach([one], ctxOf(f))
      expect(await idsOf(f)).toEqual(before.filter((id) => id !== one.id))
    })
  },
  async attach(f, initial) {
    const before = await idsOf(f)
    const one = nth(initial, 0)
    await withDetached(f, [one], async () => {
      await f.lb.detach([one], ctxOf(f))
      expect(await idsOf(f)).not.toContain(one.id)
      await f.lb.attach([one], ctxOf(f))
      const after = await f.lb.discover(ctxOf(f))
      expect(after.filter((target) => target.id === one.id)).toHaveLength(1)
      expect(after.map((target) => target.id).sort()).toEqual(before)
    })
  },
  async idempotent(f, initial) {
    const before = await idsOf(f)
    const one = nth(initial, 1)
    await withDetached(f, [one], async () => {
      await f.lb.detach([one], ctxOf(f))
      await f.lb.detach([one], ctxOf(f))
      expect(await idsOf(f)).toEqual(before.filter((id) => id !== one.id))
      await f.lb.attach([one], ctxOf(f))
      await f.lb.attach([one], ctxOf(f))
      expect(await idsOf(f)).toEqual(before)
    })
  },
  async batch(f, initial) {
    const before = await idsOf(f)
    const pair = initial.slice(0, 2)
    const pairIds = new Set(pair.map((target) => target.id))
    await withDetached(f, pair, async () => {
      await f.lb.detach(pair, ctxOf(f))
      expect(await idsOf(f)).toEqual(before.filter((id) => !pairIds.has(id)))
      await f.lb.attach(pair, ctxOf(f))
      expect(await idsOf(f)).toEqual(before)
    })
  },
  async aborted(f, initial) {
    const one = nth(initial, 0)
    const controller = new AbortController()
    const reason = new Error('contract abort')
    controller.abort(reason)
    await withDetached(f, [one], async () => {
      const error = await rejection(within(2000, 'detach with an aborted signal', f.lb.detach([one], ctxOf(f, { signal: controller.signal }))))
      expect(isAbortRejection(error, reason), `expected the abort reason or an AbortError, got ${String(error)}`).toBe(true)
      expect(await idsOf(f)).toContain(one.id)
    })
  },
  async unknown(f) {
    const before = await idsOf(f)
    const missing: Target = { id: `rolling-contract-missing-${randomSuffix()}`, address: '192.0.2.1', port: 8080 }
    const error = await rejection(within(10_000, 'detach of an unknown target', f.lb.detach([missing], ctxOf(f))))
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toContain(missing.id)
    expect(await idsOf(f)).toEqual(before)
  },

  // An adapter that stops new traffic and returns at once cuts off requests in flight.
  async 'held-request'(f, initial) {
    const one = nth(initial, 0)
    const held = await need(f, 'holdRequest', 'held-request')(one)
    let released = false
    try {
      await withDetached(f, [one], async () => {
        let settled = false
        const detached = f.lb.detach([one], ctxOf(f)).finally(() => {
          settled = true
        })
        detached.catch(() => {})
        await new Promise((resolve) => setTimeout(resolve, HOLD_MS))
        expect(settled, `detach of ${one.id} settled while a request to it was still in flight`).toBe(false)
        expect(await idsOf(f)).not.toContain(one.id)
        released = true
        await held.release()
        await within(15_000, `detach of ${one.id} after its last request ended`, detached)
      })
    } finally {
      if (!released) await held.release()
    }
  },

  // `resume` makes a new adapter: what detach did must be read back from the load balancer.
  async 'second-instance'(f, initial) {
    const before = await idsOf(f)
    const one = nth(initial, 1)
    const fresh = need(f, 'instance', 'second-instance')
    await withDetached(f, [one], async () => {
      await f.lb.detach([one], ctxOf(f))
      const b = fresh()
      expect(await idsOf(f, b)).not.toContain(one.id)
      const attached = (await b.attach([one], ctxOf(f))) || {}
      expect(attached.foreign ?? [], `a fresh instance took ${one.id} (detached by rolling) for someone else's`).toEqual([])
      expect(await idsOf(f)).toEqual(before)
      // And the other way: detach through a fresh instance, attach through the first.
      await fresh().detach([one], ctxOf(f))
      expect(await idsOf(f)).not.toContain(one.id)
      await f.lb.attach([one], ctxOf(f))
      expect(await idsOf(f)).toEqual(before)
    })
  },

  async 'operator-detach'(f, initial) {
    const operator = need(f, 'operator', 'operator-detach')
    const one = nth(initial, 0)
    for (const action of ['maint', 'drain'] as const) {
      await operator(one, action)
      try {
        expect(await idsOf(f)).not.toContain(one.id)
        if (f.lb.inventory) {
          const found = await f.lb.inventory(ctxOf(f))
          expect(found.targets.map((t) => t.id)).not.toContain(one.id)
          const excluded = found.excluded.filter((e) => e.target.id === one.id)
          expect(excluded, `inventory after an operator's ${action}: ${JSON.stringify(found.excluded)}`).toHaveLength(1)
          expect(excluded[0]?.reason).not.toBe('')
        }
        const result = (await within(15_000, `detach of ${one.id} after an operator's ${action}`, f.lb.detach([one], ctxOf(f)))) || {}
        expect(listed(result.foreign, one), `detach after an operator's ${action}: ${JSON.stringify(result)}`).toHaveLength(1)
        expect(await idsOf(f)).not.toContain(one.id)
      } finally {
        await operator(one, 'ready')
      }
      expect(await idsOf(f)).toContain(one.id)
    }
  },

  async 'operator-attach'(f, initial) {
    const operator = need(f, 'operator', 'operator-attach')
    const one = nth(initial, 1)
    try {
      await f.lb.detach([one], ctxOf(f))
      await operator(one, 'maint')
      const result = (await f.lb.attach([one], ctxOf(f))) || {}
      expect(listed(result.foreign, one), `attach after an operator's maint: ${JSON.stringify(result)}`).toHaveLength(1)
      expect(await idsOf(f)).not.toContain(one.id)
      // A fresh instance must see the same.
      const fresh = f.instance?.()
      if (fresh) {
        const again = (await fresh.attach([one], ctxOf(f))) || {}
        expect(listed(again.foreign, one)).toHaveLength(1)
        expect(await idsOf(f)).not.toContain(one.id)
      }
    } finally {
      await operator(one, 'ready')
    }
    expect(await idsOf(f)).toContain(one.id)
  },

  async 'drain-halt'(f, initial) {
    await heldDetach(f, nth(initial, 0), 'drain-halt', 'halt')
  },
  async 'drain-proceed'(f, initial) {
    await heldDetach(f, nth(initial, 1), 'drain-proceed', 'proceed')
  },
}

export function testLoadBalancer(options: ContractOptions<LoadBalancerFixture, LoadBalancerTestKey>): void {
  contractSuite('LoadBalancer', loadBalancerTests, options, (test, get) => {
    let initial: Target[] = []
    beforeAll(async () => {
      initial = await get().lb.discover(ctxOf(get()))
    })
    for (const [key, name] of Object.entries(loadBalancerTests) as [LoadBalancerTestKey, string][]) {
      test(name, () => loadBalancerChecks[key](get(), initial))
    }
  })
}

// Batch planning (counts, percentages rounded up, schedules, the minHealthy cap)
// and the plan() dry run, which must not touch a single target.
import { describe, expect, it } from 'vitest'
import { plan, ValidationError, type Amount } from '@org/rolling-core'
import { amountOf, batchSizes, splitBatches } from '../../src/plan.js'
import { setup } from '../engine/_fixture.js'

const ones = (n: number) => Array.from({ length: n }, () => 1)
const sum = (sizes: readonly number[]) => sizes.reduce((a, b) => a + b, 0)

describe('amountOf', () => {
  it('takes a count as is and rounds a percentage up', () => {
    expect(amountOf(4, 10)).toBe(4)
    expect(amountOf('25%', 10)).toBe(3)
    expect(amountOf('1%', 10)).toBe(1)
    expect(amountOf('0.5%', 10)).toBe(1)
    expect(amountOf('100%', 7)).toBe(7)
    expect(amountOf('0%', 10) + 0).toBe(0) // (-0 today: Math.ceil(-1e-9); harmless)
  })

  it('does not round an exact percentage up through floating point error', () => {
    // 7% of 100, 10% of 30, 12.5% of 8, 33% of 300: all exact, none may become one more.
    expect(amountOf('7%', 100)).toBe(7)
    expect(amountOf('10%', 30)).toBe(3)
    expect(amountOf('12.5%', 8)).toBe(1)
    expect(amountOf('33%', 300)).toBe(99)
    expect(amountOf('14%', 50)).toBe(7)
    for (let total = 1; total <= 200; total++) {
      for (const pct of [10, 20, 25, 50, 75]) {
        expect(amountOf(`${pct}%`, total)).toBe(Math.ceil((pct * total) / 100 - 1e-9))
        expect(amountOf(`${pct}%`, total)).toBeGreaterThanOrEqual((pct * total) / 100 - 1e-9)
      }
    }
  })
})

describe('batchSizes', () => {
  it('defaults to one target per batch', () => {
    expect(batchSizes(5)).toEqual(ones(5))
    expect(batchSizes(1)).toEqual([1])
    expect(batchSizes(0)).toEqual([])
  })

  it('splits by a count, the last batch taking the rest', () => {
    expect(batchSizes(10, 3)).toEqual([3, 3, 3, 1])
    expect(batchSizes(10, 5)).toEqual([5, 5])
    expect(batchSizes(3, 10)).toEqual([3])
  })

  it('rounds a percentage up, at least 1 a batch', () => {
    expect(batchSizes(10, '25%')).toEqual([3, 3, 3, 1])
    expect(batchSizes(10, '1%')).toEqual(ones(10))
    expect(batchSizes(10, '50%')).toEqual([5, 5])
    expect(batchSizes(10, '100%')).toEqual([10])
    expect(batchSizes(3, '34%')).toEqual([2, 1])
  })

  it('follows a canary schedule', () => {
    const schedule: Amount[] = [1, '10%', '50%', '100%']
    expect(batchSizes(100, schedule)).toEqual([1, 10, 50, 39])
    expect(batchSizes(3, schedule)).toEqual([1, 1, 1])
    expect(batchSizes(20, schedule)).toEqual([1, 2, 10, 7])
    expect(batchSizes(1, schedule)).toEqual([1])
  })

  it('repeats the last entry of a schedule', () => {
    expect(batchSizes(7, [1, 2])).toEqual([1, 2, 2, 2])
    expect(batchSizes(10, [1, '20%'])).toEqual([1, 2, 2, 2, 2, 1])
    expect(batchSizes(4, [2])).toEqual([2, 2])
  })

  it('caps each batch so that minHealthy stay in service', () => {
    expect(batchSizes(10, 5, 7)).toEqual([3, 3, 3, 1])
    expect(batchSizes(10, '100%', 9)).toEqual(ones(10))
    expect(batchSizes(100, [1, '10%', '50%', '100%'], 80)).toEqual([1, 10, 20, 20, 20, 20, 9])
    // A cap above the batch changes nothing.
    expect(batchSizes(10, 2, 5)).toEqual([2, 2, 2, 2, 2])
  })

  it('rounds a minHealthy percentage up (the safe way)', () => {
    // 25% of 10 is 2.5: keep 3, so at most 7 out at once.
    expect(batchSizes(10, 10, '25%')).toEqual([7, 3])
    // 21% of 10 is 2.1: keep 3 as well.
    expect(batchSizes(10, 10, '21%')).toEqual([7, 3])
    expect(batchSizes(10, 10, '20%')).toEqual([8, 2])
    expect(batchSizes(3, '100%', '50%')).toEqual([1, 1, 1])
  })

  it('never takes out more than the cap, for many shapes', () => {
    const shapes: Amount[] = [1, 3, '10%', '33%', '100%']
    for (let total = 1; total <= 60; total++) {
      for (const batch of shapes) {
        for (const minHealthy of [0, 1, '50%'] as Amount[]) {
          if (total - amountOf(minHealthy, total) < 1) continue
          const sizes = batchSizes(total, batch, minHealthy)
          expect(sum(sizes)).toBe(total)
          for (const size of sizes) {
            expect(size).toBeGreaterThanOrEqual(1)
            expect(size).toBeLessThanOrEqual(total - amountOf(minHealthy, total))
          }
        }
      }
    }
  })

  it('throws a ValidationError naming minHealthy when it leaves no room to deploy', () => {
    for (const [total, minHealthy] of [
      [10, 10],
      [10, 15],
      [10, '100%'],
      [1, '1%'],
      [3, '67%'],
    ] as const) {
      let thrown: unknown
      try {
        batchSizes(total, 1, minHealthy)
      } catch (error) {
        thrown = error
      }
      expect(thrown, `${total} targets, minHealthy ${minHealthy}`).toBeInstanceOf(ValidationError)
      expect((thrown as ValidationError).option).toBe('minHealthy')
      expect((thrown as ValidationError).code).toBe('INVALID_OPTION')
      expect((thrown as ValidationError).message).toContain('`minHealthy`')
      expect((thrown as ValidationError).message).toContain(String(minHealthy))
    }
  })
})

describe('splitBatches', () => {
  it('cuts consecutive slices of the given sizes', () => {
    expect(splitBatches(['a', 'b', 'c', 'd', 'e'], [1, 2, 2])).toEqual([['a'], ['b', 'c'], ['d', 'e']])
    expect(splitBatches([], [])).toEqual([])
  })
})

describe('plan() (dry run)', () => {
  it('returns the batches and the artifact, and touches nothing', async () => {
    const fx = setup({ size: 10 })
    const result = await plan(fx.options({ batch: [1, '50%'], minHealthy: 6 }))
    expect(result.service).toBe(fx.fleet.service)
    expect(result.artifact).toMatchObject({ service: fx.fleet.service, version: 'v2' })
    expect(result.candidates.map((t) => t.id)).toEqual(fx.fleet.targets.map((t) => t.id))
    expect(result.batches.map((b) => b.map((t) => t.id))).toEqual([
      ['host-1'],
      ['host-2', 'host-3', 'host-4', 'host-5'],
      ['host-6', 'host-7', 'host-8', 'host-9'],
      ['host-10'],
    ])
    expect(result.onFailure).toBe('halt')
    expect(result.maxStopped).toBe(3)
    expect(result.settle).toMatchObject({ delay: 60_000, successes: 1 })

    expect(fx.fleet.lb.calls.map((c) => c.op)).toEqual(['discover'])
    expect(fx.fleet.lb.maxOutOfService).toBe(0)
    expect(fx.fleet.executor.commands).toEqual([])
    // Reads only: each candidate is asked once which build it runs (for `current`).
    expect(fx.fleet.health.checks.size).toBe(10)
    expect(await fx.journal.read()).toEqual([])
    expect(fx.fleet.versions()).toEqual(new Map([['v1', 10]]))
  })

  it('resolves a named version', async () => {
    const fx = setup({ size: 2 })
    fx.fleet.publish('v3')
    expect((await plan(fx.options({ version: 'v2' }))).artifact.version).toBe('v2')
    expect((await plan(fx.options())).artifact.version).toBe('v3')
  })

  it('rejects an empty pool with EMPTY_POOL', async () => {
    const fx = setup({ size: 0 })
    await expect(plan(fx.options())).rejects.toMatchObject({ code: 'EMPTY_POOL' })
    expect(fx.fleet.lb.calls.map((c) => c.op)).toEqual(['discover'])
  })

  it('rejects a minHealthy that leaves no room, naming minHealthy, without touching anything', async () => {
    const fx = setup({ size: 4 })
    await expect(plan(fx.options({ minHealthy: '100%' }))).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'minHealthy' })
    expect(fx.fleet.lb.calls.map((c) => c.op)).toEqual(['discover'])
    expect(fx.fleet.executor.commands).toEqual([])
  })

  it('rollout() with a minHealthy that leaves no room rejects its result, touching nothing but discover', async () => {
    const fx = setup({ size: 3 })
    await expect(fx.run({ minHealthy: '100%' }).result).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'minHealthy' })
    expect(fx.fleet.lb.calls.map((c) => c.op)).toEqual(['discover'])
    expect(fx.fleet.executor.commands).toEqual([])
    expect(fx.fleet.versions()).toEqual(new Map([['v1', 3]]))
  })

  it('rejects with a ValidationError on bad options, before discovering', async () => {
    const fx = setup({ size: 2 })
    await expect(plan(fx.options({ batch: 0 }))).rejects.toBeInstanceOf(ValidationError)
    expect(fx.fleet.lb.calls).toEqual([])
  })
})

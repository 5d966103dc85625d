// Zone-aware batch planning: one zone a batch, maxPerZone, minHealthy per zone, the schedule
// counted across zones, and targets without the zone label refused.
import { describe, expect, it } from 'vitest'
import { planBatches, zonesOf, ValidationError } from '@org/rolling-core'

const fleet = (spec: Record<string, number>) =>
  Object.entries(spec).flatMap(([zone, n]) => Array.from({ length: n }, (_, i) => ({ id: `${zone}-${i + 1}`, labels: { zone } })))
const ids = (batches: { id: string }[][]) => batches.map((b) => b.map((t) => t.id))
// Interleaved as a discovery would return them, not grouped by zone.
const interleaved = (spec: Record<string, number>) => {
  const all = fleet(spec)
  return all.sort((a, b) => Number(a.id.split('-')[1]) - Number(b.id.split('-')[1]) || a.id.localeCompare(b.id))
}

describe('planBatches with zones', () => {
  it('without zones it is the plain schedule', () => {
    expect(ids(planBatches(fleet({ a: 3 }), { batch: 2 }))).toEqual([['a-1', 'a-2'], ['a-3']])
  })

  it('holds one zone a batch, zones in the order first seen, however the schedule runs', () => {
    const batches = planBatches(interleaved({ a: 3, b: 3, c: 3 }), { batch: '50%', zones: { label: 'zone' } })
    expect(ids(batches)).toEqual([
      ['a-1', 'a-2', 'a-3'],
      ['b-1', 'b-2', 'b-3'],
      ['c-1', 'c-2', 'c-3'],
    ])
    for (const b of batches) expect(zonesOf(b, 'zone')).toHaveLength(1)
  })

  it('counts the schedule across zones, so the canary stays one target', () => {
    const batches = planBatches(interleaved({ a: 3, b: 3, c: 3 }), { batch: [1, '34%'], zones: { label: 'zone' } })
    expect(ids(batches)).toEqual([['a-1'], ['a-2', 'a-3'], ['b-1', 'b-2', 'b-3'], ['c-1', 'c-2', 'c-3']])
  })

  it('minHealthy per zone caps each batch within a zone', () => {
    const batches = planBatches(fleet({ a: 4, b: 2 }), { batch: '100%', zones: { label: 'zone', minHealthy: '50%' } })
    expect(ids(batches)).toEqual([['a-1', 'a-2'], ['a-3', 'a-4'], ['b-1'], ['b-2']])
  })

  it('the fleet-wide minHealthy still caps a batch', () => {
    const batches = planBatches(fleet({ a: 4, b: 4 }), { batch: '100%', minHealthy: 6, zones: { label: 'zone' } })
    expect(batches.map((b) => b.length)).toEqual([2, 2, 2, 2])
  })

  it('maxPerZone mixes zones, at most that many of each a batch', () => {
    const batches = planBatches(interleaved({ a: 3, b: 3, c: 2 }), { batch: '100%', zones: { label: 'zone', maxPerZone: 1 } })
    expect(ids(batches)).toEqual([
      ['a-1', 'b-1', 'c-1'],
      ['a-2', 'b-2', 'c-2'],
      ['a-3', 'b-3'],
    ])
  })

  it('maxPerZone as a percentage of each zone', () => {
    const batches = planBatches(fleet({ a: 4, b: 2 }), { batch: 4, zones: { label: 'zone', maxPerZone: '50%' } })
    for (const b of batches) {
      expect(b.filter((t) => t.labels.zone === 'a').length).toBeLessThanOrEqual(2)
      expect(b.filter((t) => t.labels.zone === 'b').length).toBeLessThanOrEqual(1)
    }
    expect(batches.flat()).toHaveLength(6)
  })

  it('every target is planned exactly once, for many shapes', () => {
    for (const spec of [{ a: 1 }, { a: 5, b: 1 }, { a: 2, b: 7, c: 3 }, { x: 10, y: 10, z: 10, w: 1 }] as Record<string, number>[]) {
      for (const batch of [1, 3, '25%', [1, '50%']] as const) {
        for (const maxPerZone of [undefined, 1, '50%'] as const) {
          const all = fleet(spec)
          const zones = maxPerZone === undefined ? { label: 'zone' } : { label: 'zone', maxPerZone }
          const batches = planBatches(all, { batch: batch as never, zones })
          expect(
            batches
              .flat()
              .map((t) => t.id)
              .sort(),
          ).toEqual(all.map((t) => t.id).sort())
          if (maxPerZone === undefined) for (const b of batches) expect(zonesOf(b, 'zone')).toHaveLength(1)
          for (const b of batches) expect(b.length).toBeGreaterThan(0)
        }
      }
    }
  })

  it('refuses targets without the label, and a zone minHealthy that leaves none to deploy', () => {
    const mixed = [...fleet({ a: 2 }), { id: 'lost-1', labels: {} }]
    expect(() => planBatches(mixed, { zones: { label: 'zone' } })).toThrow(ValidationError)
    expect(() => planBatches(mixed, { zones: { label: 'zone' } })).toThrow(/1 target\(s\) have no label "zone" \(lost-1\)/)
    expect(() => planBatches(fleet({ a: 2, b: 1 }), { zones: { label: 'zone', minHealthy: 1 } })).toThrow(/zone b in service, which leaves none/)
  })
})

// The failure budget, zones, the deadline and late joiners, on the fake clock.
import { describe, expect, it } from 'vitest'
import { plan, readJournal } from '@org/rolling-core'
import { outcomes, setup } from './_fixture.js'

describe('failure budget (maxFailures)', () => {
  it('leaves a failed target out, lists it, goes on, and ends degraded', async () => {
    const fx = setup({ size: 4 })
    fx.fleet.breakAfterDeploy('host-2')
    const run = fx.run({ maxFailures: 1 })
    const spent: string[] = []
    run.on('budget:spent', (e) => spent.push(`${e.target.id} ${e.failures}/${e.budget}`))
    const result = await run
    expect(result.status).toBe('degraded')
    expect(result.reason).toBe('1 target(s) failed within the failure budget (maxFailures 1) and are left out: host-2')
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'failed', 'host-3': 'done', 'host-4': 'done' })
    expect(result.needsAttention.map((t) => t.id)).toEqual(['host-2'])
    expect(fx.fleet.lb.inService('host-2')).toBe(false)
    expect(spent).toEqual(['host-2 1/1'])
    expect(readJournal(await fx.journal.read(), 'memory')?.end?.status).toBe('degraded')
  })

  it('halts once the failures go past the budget (a percentage of the targets)', async () => {
    const fx = setup({ size: 8 })
    fx.fleet.breakAfterDeploy('host-2')
    fx.fleet.breakAfterDeploy('host-4')
    const result = await fx.run({ maxFailures: '10%', batch: 2 })
    expect(result.status).toBe('halted')
    expect(result.reason).toMatch(/^2 target\(s\) failed, more than maxFailures \(1\): host-4 /)
    expect(outcomes(result)['host-5']).toBe('pending')
  })

  it('never lets minHealthy be broken: with failures left out, a batch that would go below it is not detached', async () => {
    const fx = setup({ size: 4 })
    fx.fleet.breakAfterDeploy('host-1')
    const result = await fx.run({ maxFailures: 2, batch: 2, minHealthy: 2 })
    expect(result.status).toBe('halted')
    expect(result.reason).toMatch(
      /^detaching the next 2 target\(s\) would leave 1 in service, fewer than minHealthy \(2\), with 1 failed target\(s\) left out \(host-1/,
    )
    expect(fx.fleet.lb.calls.filter((c) => c.op === 'detach')).toHaveLength(1)
    expect(outcomes(result)).toMatchObject({ 'host-3': 'pending', 'host-4': 'pending' })
  })

  it('without a budget the first failure halts, as before', async () => {
    const fx = setup({ size: 3 })
    fx.fleet.breakAfterDeploy('host-1')
    const result = await fx.run()
    expect(result.status).toBe('halted')
    expect(result.reason).toMatch(/^host-1 .*failed its settle/)
  })
})

describe('zones', () => {
  const zoneOf = (n: number) => ({ zone: ['a', 'b', 'c'][(n - 1) % 3] as string })

  it('every batch holds one zone; plan shows the zone of each batch', async () => {
    const fx = setup({ size: 6, labels: zoneOf })
    const shown = await plan(fx.options({ zones: { label: 'zone' }, batch: 2 }))
    expect(shown.control.zones?.perBatch).toEqual([['a'], ['b'], ['c']])
    const run = fx.run({ zones: { label: 'zone' }, batch: 2 })
    const zones: string[][] = []
    run.on('batch:start', (e) => zones.push([...new Set(e.targets.map((t) => t.labels?.zone ?? '?'))]))
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(zones).toEqual([['a'], ['b'], ['c']])
    expect(fx.fleet.lb.maxOutOfService).toBe(2)
  })

  it('zones.minHealthy keeps that many of each zone in service, with failures left out too', async () => {
    const fx = setup({ size: 6, labels: zoneOf })
    const run = fx.run({ zones: { label: 'zone', minHealthy: 1 }, batch: 2 })
    const sizes: number[] = []
    run.on('batch:start', (e) => sizes.push(e.targets.length))
    expect((await run).status).toBe('succeeded')
    expect(sizes).toEqual([1, 1, 1, 1, 1, 1])
    const broken = setup({ size: 9, labels: zoneOf })
    broken.fleet.breakAfterDeploy('host-1') // zone a
    const result = await broken.run({ zones: { label: 'zone', minHealthy: 2 }, maxFailures: 3 })
    expect(result.status).toBe('halted')
    expect(result.reason).toMatch(/would leave 1 of zone a in service, fewer than zones.minHealthy \(2\)/)
  })

  it('refuses targets without the zone label before anything changes', async () => {
    const fx = setup({ size: 2 })
    await expect(fx.run({ zones: { label: 'zone' } })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'zones.label' })
    expect(fx.fleet.lb.calls.filter((c) => c.op === 'detach')).toHaveLength(0)
  })
})

describe('deadline', () => {
  it('aborts gracefully when it passes mid-batch: the batch finishes, nothing new starts, the reason says so', async () => {
    const fx = setup({ size: 4 })
    // One batch takes 5 s drain + 10 s deploy + 60 s settle + 2 s attach = 77 s.
    const result = await fx.run({ deadline: '2m' })
    expect(result.status).toBe('aborted')
    expect(result.reason).toMatch(/^\[rolling\] aborted: the rollout's deadline of 2m passed \(it started at 2025-01-01T00:00:00.000Z\)$/)
    const o = outcomes(result)
    expect(o['host-1']).toBe('done')
    expect(o['host-3']).toBe('pending')
    expect(o['host-4']).toBe('pending')
    // The in-flight batch ended in service (done, or put back on its old build).
    expect(['done', 'restored']).toContain(o['host-2'])
    expect(fx.fleet.targets.every((t) => fx.fleet.lb.inService(t.id))).toBe(true)
    expect(result.durationMs).toBeLessThan(240_000)
  })

  it('takes a deadline above the timer ceiling as refused, not as a 1 ms timer', () => {
    const fx = setup({ size: 1 })
    expect(() => fx.run({ deadline: 2 ** 31 })).toThrow(/deadline.*above the largest timer/)
  })
})

describe("late joiners (verify.onMismatch 'deploy')", () => {
  it('a target verify finds on another build is rolled like the others instead of stopped', async () => {
    const fx = setup({ size: 2 })
    const run = fx.run({ verify: { onMismatch: 'deploy' } })
    let joiner = ''
    run.on('batch:end', (e) => {
      if (e.index === 1 && !joiner) joiner = fx.fleet.addHost('v1').id
    })
    const batches: number[] = []
    run.on('batch:start', (e) => batches.push(e.index))
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(outcomes(result)[joiner]).toBe('done')
    expect(fx.fleet.hosts.get(joiner)?.version).toBe('v2')
    expect(fx.fleet.lb.inService(joiner)).toBe(true)
    expect(batches).toEqual([0, 1, 2])
  })

  it('by default the late joiner is stopped; with deploy, maxStopped counts only those that fail', async () => {
    let fx = setup({ size: 2 })
    let run = fx.run()
    run.on('batch:end', (e) => {
      if (e.index === 1) fx.fleet.addHost('v1')
    })
    expect(outcomes(await run)['host-3']).toBe('stopped')
    fx = setup({ size: 2 })
    run = fx.run({ verify: { onMismatch: 'deploy' }, maxStopped: 0 })
    run.on('batch:end', (e) => {
      if (e.index === 1) fx.fleet.breakAfterDeploy(fx.fleet.addHost('v1').id)
    })
    const result = await run
    expect(result.status).toBe('failed')
    expect(result.reason).toBe('1 late joiner(s) failed to deploy, more than maxStopped (0): host-3 (127.100.0.3:8080)')
    expect(result.needsAttention.map((t) => t.id)).toEqual(['host-3'])
  })
})

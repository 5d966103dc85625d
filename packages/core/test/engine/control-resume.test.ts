// Resume continues the rollout control where the interrupted run left it: the gates of a
// batch that ended before the crash are asked again, failures recorded before it spend the
// budget again, and the deadline counts from the first start. The crash is a copy of the
// journal taken mid-run (what a killed process leaves), resumed with a fresh lock.
import { describe, expect, it } from 'vitest'
import { type Gate, type Journal, memoryJournal, memoryLock, resume, type RolloutOptions, type RolloutRun } from '@org/rolling-core'
import { outcomes, setup } from './_fixture.js'

type Fx = ReturnType<typeof setup>

/** Copies the journal when `event` first fires (the process dies there), and stops the run. */
function crashAt(run: RolloutRun, fx: Fx, event: 'gate:start' | 'batch:start', when: (e: { index?: number; batch?: number }) => boolean): Promise<unknown[]> {
  return new Promise((resolve) => {
    run.on(event as 'batch:start', (e) => {
      if (!when(e as { index?: number })) return
      void fx.journal.read().then(resolve)
      run.abort('the process died here')
    })
  })
}

/** Resumes from what the dead process left, on a journal of its own. */
function again(fx: Fx, records: unknown[], extra: Partial<RolloutOptions>) {
  const journal: Journal = memoryJournal()
  journal.append(...(records as never[]))
  return resume({ ...fx.fleet.adapters, clock: fx.clock, journal, lock: memoryLock(), ...extra })
}

describe('resume and the rollout control', () => {
  it('asks the gates of a batch that ended before the crash again: a gate failing now halts', async () => {
    const fx = setup({ size: 3 })
    let failing = false
    const gate: Gate = { name: 'errors', interval: 1000, check: async () => (failing ? { state: 'fail', detail: '5xx 4%' } : { state: 'pass', detail: 'ok' }) }
    const first = fx.run({ gates: [gate], bake: 60_000 })
    const journal = crashAt(first, fx, 'gate:start', () => true)
    await first
    failing = true
    const result = await again(fx, await journal, { gates: [gate] })
    expect(result.status).toBe('halted')
    expect(result.reason).toBe('gate errors failed after batch 1 of 3: 5xx 4%')
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'pending', 'host-3': 'pending' })
  })

  it('a failure recorded before the crash spends the budget again: the resumed run goes on and ends degraded', async () => {
    const fx = setup({ size: 3 })
    fx.fleet.breakAfterDeploy('host-1')
    const first = fx.run({ maxFailures: 1 })
    const journal = crashAt(first, fx, 'batch:start', (e) => e.index === 1)
    await first
    const result = await again(fx, await journal, { maxFailures: 1 })
    expect(result.status).toBe('degraded')
    expect(outcomes(result)).toEqual({ 'host-1': 'failed', 'host-2': 'done', 'host-3': 'done' })
    // Without the budget the same journal halts at once, as before.
    const strict = await again(fx, await journal, {})
    expect(strict.status).toBe('halted')
  })

  it('the deadline counts from the first start, not from the resume', async () => {
    const fx = setup({ size: 3 })
    const first = fx.run({ deadline: '4m' })
    const journal = crashAt(first, fx, 'batch:start', (e) => e.index === 1)
    await first
    await fx.clock.advance(180_000)
    const result = await again(fx, await journal, { deadline: '4m' })
    expect(result.status).toBe('aborted')
    expect(result.reason).toMatch(/^\[rolling\] aborted: the rollout's deadline of 4m passed \(it started at 2025-01-01T00:00:00.000Z\)$/)
    expect(outcomes(result)['host-3']).toBe('pending')
  })

  it('a late joiner left mid-way (detached, out of service) is finished by the resumed run, not lost', async () => {
    const fx = setup({ size: 2 })
    const first = fx.run({ verify: { onMismatch: 'deploy' } })
    let joiner = ''
    first.on('batch:end', (e) => {
      if (e.index === 1 && !joiner) joiner = fx.fleet.addHost('v1').id
    })
    const records = new Promise<unknown[]>((resolve) => {
      first.on('target:detached', (e) => {
        if (e.target.id !== joiner) return
        void fx.journal.read().then(resolve)
        first.cancel('the process died here')
      })
    })
    await first
    expect(fx.fleet.lb.inService(joiner)).toBe(false)
    const result = await again(fx, await records, { verify: { onMismatch: 'deploy' } })
    expect(result.status, result.reason).toBe('succeeded')
    expect(outcomes(result)[joiner]).toBe('done')
    expect(fx.fleet.lb.inService(joiner)).toBe(true)
    expect(fx.fleet.hosts.get(joiner)?.version).toBe('v2')
  })
})

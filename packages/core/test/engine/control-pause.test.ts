// Pause and approve between batches, on the fake clock: the run waits with every target in
// service until run.approve(), a message on the control channel, an abort, or the timeout;
// the pause is journalled, so a resumed run pauses again where it was, until the same end.
import { describe, expect, it } from 'vitest'
import { type ControlChannel, type ControlMessage, memoryJournal, memoryLock, readJournal, resume } from '@org/rolling-core'
import { outcomes, setup } from './_fixture.js'

/** A control channel in memory: what `rolling approve` writes to a folder, as a list. */
function memoryControl(): ControlChannel & { messages: ControlMessage[] } {
  const messages: ControlMessage[] = []
  return {
    location: 'memory',
    messages,
    async send(_service, message) {
      messages.push(message)
    },
    async receive(_service, options) {
      const at = options?.after === undefined ? -1 : messages.findIndex((m) => m.id === options.after)
      return messages.slice(at + 1)
    },
  }
}

const message = (kind: 'approve' | 'abort', runId: string, id: string): ControlMessage => ({
  id,
  kind,
  runId,
  at: new Date(0).toISOString(),
  by: 'alice@ci',
  note: 'canary ok',
})

describe('pause', () => {
  it('waits after the canary with every target in service until run.approve()', async () => {
    const fx = setup({ size: 3 })
    const run = fx.run({ pause: { after: [1] } })
    const seen: string[] = []
    run.on('pause:start', (e) => {
      seen.push(`paused after ${e.index + 1}/${e.total} (${e.onTimeout} at +${e.timeoutMs})`)
      // Released later on the engine's clock: the pause holds meanwhile.
      fx.clock.setTimeout(() => {
        seen.push(
          `in service: ${fx.fleet.targets.filter((t) => fx.fleet.lb.inService(t.id)).length}, detaches: ${fx.fleet.lb.calls.filter((c) => c.op === 'detach').length}`,
        )
        expect(run.approve('looks good')).toBe(true)
      }, 3_600_000)
    })
    run.on('pause:end', (e) => seen.push(`${e.how} by ${e.by} (${e.note})`))
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(seen).toEqual(['paused after 1/3 (abort at +86400000)', 'in service: 3, detaches: 1', 'approved by run.approve() (looks good)'])
    expect(result.pauses).toEqual([{ index: 0, how: 'approved', by: 'run.approve()', note: 'looks good', durationMs: 3_600_000 }])
    expect(run.approve()).toBe(false)
    const records = readJournal(await fx.journal.read(), 'memory')?.records ?? []
    expect(records.filter((r) => r.type === 'pause' || r.type === 'release').map((r) => r.type)).toEqual(['pause', 'release'])
  })

  it("'every-batch' pauses between every two batches, never after the last; an approval on the control channel releases each", async () => {
    const fx = setup({ size: 3 })
    const control = memoryControl()
    // An approval left from an earlier run is never acted on.
    control.messages.push(message('approve', 'r-old', 'm-0'))
    const run = fx.run({ pause: 'every-batch', control })
    let n = 0
    run.on('pause:start', () => {
      fx.clock.setTimeout(() => control.messages.push(message('approve', run.runId, `m-${++n}`)), 10_000)
    })
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(result.pauses?.map((p) => [p.index, p.how, p.by])).toEqual([
      [0, 'approved', 'alice@ci'],
      [1, 'approved', 'alice@ci'],
    ])
  })

  it('an abort on the control channel ends the pause: the run aborts, the rest untouched, everything in service', async () => {
    const fx = setup({ size: 3 })
    const control = memoryControl()
    const run = fx.run({ pause: { after: [1] }, control })
    run.on('pause:start', () => control.messages.push(message('abort', run.runId, 'm-1')))
    const result = await run
    expect(result.status).toBe('aborted')
    expect(result.reason).toBe('[rolling] aborted: rolling abort by alice@ci (canary ok) after batch 1')
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'pending', 'host-3': 'pending' })
    expect(fx.fleet.targets.every((t) => fx.fleet.lb.inService(t.id))).toBe(true)
    expect(result.pauses?.[0]).toMatchObject({ how: 'aborted', by: 'alice@ci' })
  })

  it('at its timeout a pause aborts, or goes on with onTimeout approve', async () => {
    let fx = setup({ size: 2 })
    let result = await fx.run({ pause: { after: [1], timeout: 600_000 } })
    expect(result.status).toBe('aborted')
    expect(result.reason).toBe("[rolling] aborted: the pause after batch 1 was not approved within 10m (pause.onTimeout 'abort')")
    expect(result.pauses?.[0]).toMatchObject({ how: 'timeout', durationMs: 600_000 })
    fx = setup({ size: 2 })
    result = await fx.run({ pause: { after: [1], timeout: 600_000, onTimeout: 'approve' } })
    expect(result.status).toBe('succeeded')
    expect(result.pauses?.[0]).toMatchObject({ how: 'timeout' })
  })

  it('run.abort() during a pause aborts gracefully', async () => {
    const fx = setup({ size: 3 })
    const run = fx.run({ pause: { after: [1] } })
    run.on('pause:start', () => run.abort('not today'))
    const result = await run
    expect(result.status).toBe('aborted')
    expect(result.reason).toBe('[rolling] aborted: not today')
    expect(outcomes(result)['host-2']).toBe('pending')
  })

  it('a run interrupted while paused pauses again on resume, until the end its pause was given', async () => {
    const fx = setup({ size: 3 })
    const first = fx.run({ pause: { after: [1], timeout: 7_200_000 } })
    const paused = new Promise<void>((resolve) => first.on('pause:start', () => resolve()))
    await paused
    const pausedAt = fx.clock.now()
    // The process dies here: its journal is what is left. A copy stands in for the file.
    const journal = memoryJournal()
    journal.append(...((await fx.journal.read()) as never[]))
    await fx.clock.advance(1_800_000)
    const again = resume({ ...fx.fleet.adapters, clock: fx.clock, journal, lock: memoryLock(), pause: { after: [1], timeout: 7_200_000 } })
    const starts: { resumed: boolean; until: number }[] = []
    again.on('pause:start', (e) => {
      starts.push({ resumed: e.resumed, until: e.until })
      fx.clock.setTimeout(() => again.approve(), 60_000)
    })
    const result = await again
    first.abort()
    await first
    expect(starts).toEqual([{ resumed: true, until: pausedAt + 7_200_000 }])
    expect(result.status).toBe('succeeded')
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'done', 'host-3': 'done' })
  })
})

// A journal that writes behind (as the S3 one does): the engine waits for its `flush` before a
// target leaves service and before it reports the end, and a flush that fails (a lost lease)
// stops the run before it touches another host.
import { setImmediate as tick } from 'node:timers/promises'
import { type Journal, type LoadBalancer, RollingError, type StoredRecord, type Target, memoryJournal } from '@org/rolling-core'
import { describe, expect, it } from 'vitest'
import { setup } from './_fixture.js'

/** A memory journal whose records become durable only when a flush (a turn of the event loop later) has resolved. */
function writeBehind() {
  const inner = memoryJournal()
  const durable: StoredRecord[] = []
  let pending: StoredRecord[] = []
  let fail: Error | undefined
  const journal: Journal = {
    location: 'write-behind',
    append(...records) {
      inner.append(...records)
      pending.push(...(JSON.parse(JSON.stringify(records)) as StoredRecord[]))
    },
    async flush() {
      await tick()
      if (fail) throw fail
      durable.push(...pending)
      pending = []
    },
    read: () => inner.read(),
    async reset() {
      await inner.reset()
      durable.length = 0
      pending = []
    },
    close: () => inner.close(),
  }
  const failFrom = (error: Error) => {
    fail = error
  }
  return { journal, durable, failFrom }
}

/** The state each target of `ids` is in per the durable records. */
function durableStates(durable: readonly StoredRecord[], ids: readonly string[]): (string | undefined)[] {
  const start = durable.find((r) => r.type === 'start') as { targets?: Target[] } | undefined
  return ids.map((id) => {
    const i = start?.targets?.findIndex((t) => t.id === id)
    return (durable.filter((r) => r.type === 't' && r.i === i).at(-1) as { s?: string } | undefined)?.s
  })
}

describe('a journal that writes behind', () => {
  it('is durable before each detach: the record saying a target is out exists before it is out', async () => {
    const { fleet, run } = setup({ size: 6 })
    const store = writeBehind()
    const seen: (string | undefined)[][] = []
    const lb: LoadBalancer = {
      ...fleet.lb,
      detach: (targets, ctx) => {
        seen.push(
          durableStates(
            store.durable,
            targets.map((t) => t.id),
          ),
        )
        return fleet.lb.detach(targets, ctx)
      },
    }
    const result = await run({ loadBalancer: lb, journal: store.journal, batch: 2, settle: { delay: 0 } })
    expect(result.status).toBe('succeeded')
    expect(seen).toEqual([
      ['detaching', 'detaching'],
      ['detaching', 'detaching'],
      ['detaching', 'detaching'],
    ])
    // The end is durable by the time the result is given.
    expect(store.durable.at(-1)).toMatchObject({ type: 'end', status: 'succeeded' })
  })

  it('a flush that fails (the lease was lost) stops the run before its next detach: no host of that batch is touched', async () => {
    const { fleet, run } = setup({ size: 6 })
    const store = writeBehind()
    const lost = new RollingError('LOCKED', '[rolling] service app: lost the lock (fencing token 7): someone broke or took it over')
    const result = await run({
      journal: store.journal,
      batch: 2,
      settle: { delay: 0 },
      hooks: {
        beforeBatch: ({ index }) => {
          if (index === 1) store.failFrom(lost)
        },
      },
    }).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(result).toBe(lost)
    const touched = [...fleet.lb.calls.filter((c) => c.op !== 'discover').flatMap((c) => c.ids)]
    expect(new Set(touched)).toEqual(new Set(['host-1', 'host-2']))
    expect(fleet.hosts.get('host-3')?.version).toBe('v1')
    expect(fleet.lb.inService('host-3')).toBe(true)
  })
})

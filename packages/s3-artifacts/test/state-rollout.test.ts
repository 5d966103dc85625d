// rollout() on the S3 state: the engine's real flow (in-memory hosts, real clock) with the lock
// and the journal of each service on one moto bucket, 20 services at once from one process.
import { rollout } from '@org/rolling-core'
import { memoryFleet } from '@org/rolling-core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { S3Client } from '@aws-sdk/client-s3'
import { s3State } from '../src/index.js'
import { countWire } from '../src/testing.js'
import { type Moto, startMoto } from './moto.js'

describe('rollout() on s3State (moto)', () => {
  let s3: Moto
  beforeAll(async () => {
    s3 = await startMoto('state')
  }, 30_000)
  afterAll(() => s3?.stop())

  it('20 services at once, each with its own lease: all succeed, every lease is released, each journal ends', async () => {
    const state = s3State({ bucket: s3.bucket, prefix: 'multi/', clientConfig: s3.clientConfig })
    const services = Array.from({ length: 20 }, (_, i) => `svc-${i}`)
    const results = await Promise.all(
      services.map((service) => {
        const fleet = memoryFleet({ size: 4, service })
        fleet.publish('v2')
        return rollout({ ...fleet.adapters, batch: 2, settle: { delay: 0 }, lock: state.lock, journal: state.journal(service) })
      }),
    )
    expect(results.map((r) => r.status)).toEqual(services.map(() => 'succeeded'))
    for (const service of services) {
      expect(await state.lock.inspect(service)).toBeUndefined()
      const records = await state.journal(service).read()
      expect(records[0]?.type).toBe('start')
      expect(records.at(-1)?.type).toBe('end')
    }
    const perRollout = (state.calls.get + state.calls.put) / services.length
    console.log(`S3 calls for 20 rollouts of 4 targets (batch 2): ${JSON.stringify(state.calls)}, ${perRollout.toFixed(1)} per rollout`)
    state.destroy()
  }, 60_000)

  it('a second rollout of a service while one runs is refused naming the holder, and leaves no trace', async () => {
    const one = s3State({ bucket: s3.bucket, prefix: 'pair/', clientConfig: s3.clientConfig })
    const two = s3State({ bucket: s3.bucket, prefix: 'pair/', clientConfig: s3.clientConfig })
    const fleetA = memoryFleet({ size: 4, service: 'web', deployMs: 300 })
    const fleetB = memoryFleet({ size: 4, service: 'web' })
    fleetA.publish('v2')
    fleetB.publish('v2')
    const first = rollout({ ...fleetA.adapters, batch: 1, settle: { delay: 0 }, lock: one.lock, journal: one.journal('web') })
    await new Promise((resolve) => setTimeout(resolve, 150))
    const second = await rollout({ ...fleetB.adapters, lock: two.lock, journal: two.journal('web') }).then(
      (r) => r,
      (error: unknown) => error as Error,
    )
    const message = second instanceof Error ? second.message : JSON.stringify(second.reason ?? second.status)
    expect(message).toMatch(/web is already being rolled out by run \S+ \(pid \d+ on host/)
    expect((await first).status).toBe('succeeded')
    expect((await two.journal('web').read()).filter((r) => r.type === 'start')).toHaveLength(1)
    one.destroy()
    two.destroy()
  }, 60_000)

  it('a rollout whose lock is broken and taken mid-run stops before its next detach: no host of the next batch is touched', async () => {
    const mine = s3State({ bucket: s3.bucket, prefix: 'fenced/', clientConfig: s3.clientConfig })
    const theirs = s3State({ bucket: s3.bucket, prefix: 'fenced/', clientConfig: s3.clientConfig })
    const fleet = memoryFleet({ size: 4, service: 'api' })
    fleet.publish('v2')
    let taken: Awaited<ReturnType<typeof theirs.lock.acquire>> | undefined
    const outcome = await rollout({
      ...fleet.adapters,
      batch: 2,
      settle: { delay: 0 },
      lock: mine.lock,
      journal: mine.journal('api'),
      hooks: {
        // Another runner breaks the lock (`rolling unlock --force`) and takes it, with a greater token.
        beforeBatch: async ({ index }) => {
          if (index !== 1) return
          await theirs.lock.break('api')
          taken = await theirs.lock.acquire('api', { runId: 'other', pid: 1, host: 'runner-b', since: new Date().toISOString(), service: 'api' })
          // Its first write lands before this run's next one: from then on this run cannot write.
          const journal = theirs.journal('api')
          await journal.read()
          journal.append({ type: 'resumed', by: 'other' })
          await journal.flush()
        },
      },
    }).then(
      (result) => result,
      (error: unknown) => error as Error,
    )
    expect(outcome).toBeInstanceOf(Error)
    expect((outcome as Error).message).toMatch(
      new RegExp(`written by another run since this one last read it, by the holder of fencing token ${taken?.token}, which took the lock over`),
    )
    const touched = new Set(fleet.lb.calls.filter((c) => c.op !== 'discover').flatMap((c) => c.ids))
    expect(touched).toEqual(new Set(['host-1', 'host-2']))
    expect(new Set(fleet.executor.commands.map((c) => c.targetId))).toEqual(new Set(['host-1', 'host-2']))
    // The lock stays the other runner's; its journal write stands.
    expect(await mine.lock.inspect('api')).toMatchObject({ runId: 'other' })
    expect((await theirs.journal('api').read()).at(-1)).toEqual({ type: 'resumed', by: 'other' })
    await taken?.release()
    mine.destroy()
    theirs.destroy()
  }, 60_000)

  it('counts the S3 requests of one rollout of 100 targets in batches of 10, at the wire', async () => {
    const client = new S3Client(s3.clientConfig)
    const wire = countWire(client)
    const state = s3State({ bucket: s3.bucket, prefix: 'count/', client })
    const fleet = memoryFleet({ size: 100, service: 'big', deployMs: 20 })
    fleet.publish('v2')
    const result = await rollout({ ...fleet.adapters, batch: 10, settle: { delay: 0 }, lock: state.lock, journal: state.journal('big') })
    expect(result.status).toBe('succeeded')
    const sent = { ...wire.count() }
    const records = await state.journal('big').read()
    const lock = wire.count((key) => key === 'count/big/lock.json')
    const journal = wire.count((key) => key === 'count/big/journal.jsonl')
    console.log(`S3 requests for 100 targets, batch 10: ${JSON.stringify(sent)}; lock ${JSON.stringify(lock)}, journal ${JSON.stringify(journal)} (${records.length} records)`)
    // The store's own counters agree with the wire (no retry here); the lock: read, create, read, release.
    expect(sent).toEqual({ GET: state.calls.get - 1, PUT: state.calls.put })
    expect(lock).toEqual({ GET: 2, PUT: 2 })
    // Appends are written behind and coalesced: far fewer PUTs than records, at least one per detach.
    expect(journal.PUT).toBeLessThan(records.length / 5)
    expect(journal.PUT).toBeGreaterThanOrEqual(10)
    state.destroy()
    client.destroy()
  }, 60_000)
})

// The S3 state store against moto (conditional writes enforced, as on S3), through the real
// client-s3: the shared Lock, Journal and ControlChannel contracts with two stores on one prefix
// (two runners), the lease, its renewal and its loss (fencing), and the journal's compare-and-swap.
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { type Clock, LockedError, systemClock } from '@org/rolling-core'
import { FakeClock } from '@org/rolling-core/testing'
import { testControl, testJournal, testLock } from '@org/rolling-core/testing/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type S3LockLease, s3State } from '../src/index.js'
import { type Moto, startMoto } from './moto.js'

const holder = (runId: string) => ({ runId, pid: process.pid, host: 'runner-a', since: new Date().toISOString(), service: '' })
let n = 0
const service = () => `svc-${Date.now().toString(36)}-${n++}`

// One moto for the file's contract suites, started by the first that needs it.
let shared: Promise<Moto> | undefined
const moto = () => (shared ??= startMoto('state'))
afterAll(async () => (await shared)?.stop(), 30_000)

describe('S3 state on moto', () => {
  // Two stores on one prefix: two runners.
  const pair = async (prefix: string) => {
    const s3 = await moto()
    const a = s3State({ bucket: s3.bucket, prefix, clientConfig: s3.clientConfig })
    const b = s3State({ bucket: s3.bucket, prefix, clientConfig: s3.clientConfig })
    const teardown = async () => {
      a.destroy()
      b.destroy()
    }
    return { a, b, teardown }
  }

  testLock({
    name: 's3 (moto)',
    timeout: 20_000,
    setup: async () => {
      const { a, b, teardown } = await pair('rolling/')
      return { lock: a.lock, other: b.lock, teardown }
    },
  })

  testJournal({
    name: 's3 (moto)',
    timeout: 20_000,
    setup: async () => {
      const { a, b, teardown } = await pair('journals/')
      return {
        // The journal is written only under the lease of its service: each test holds one.
        open: async () => {
          const s = service()
          const lease = await a.lock.acquire(s, holder(`run-${s}`))
          return { journal: a.journal(s), reader: () => b.journal(s), close: () => lease.release() }
        },
        teardown,
      }
    },
  })

  testControl({
    name: 's3 (moto)',
    timeout: 20_000,
    setup: async () => {
      const { a, b, teardown } = await pair('control/')
      return { control: a.control, other: b.control, teardown }
    },
  })

  describe('lease, fencing and control', () => {
    let s3: Moto
    beforeAll(async () => {
      s3 = await moto()
    }, 30_000)
    const state = (leaseMs = 60_000, renewEveryMs?: number, clock?: Clock) =>
      s3State({
        bucket: s3.bucket,
        prefix: 'teams/',
        clientConfig: s3.clientConfig,
        lock: { leaseMs, ...(renewEveryMs ? { renewEveryMs } : {}), ...(clock ? { clock } : {}) },
      })

    it('names the holder, since when and the lease end; a second runner is refused 20 times of 20', async () => {
      const a = state()
      const b = state()
      const s = service()
      for (let round = 0; round < 20; round++) {
        const outcomes = await Promise.allSettled([a.lock.acquire(s, holder(`a-${round}`)), b.lock.acquire(s, holder(`b-${round}`))])
        const won = outcomes.filter((o): o is PromiseFulfilledResult<S3LockLease> => o.status === 'fulfilled')
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
        expect(won).toHaveLength(1)
        expect(lost).toHaveLength(1)
        const error = lost[0]!.reason as LockedError
        expect(error).toBeInstanceOf(LockedError)
        expect(error.stale).toBe(false)
        expect(error.message).toContain(`run ${won[0]!.value.holder.runId} (pid ${process.pid} on host runner-a`)
        expect(error.message).toMatch(/since \d{4}-.*its lease runs until \d{4}-/)
        await won[0]!.value.release()
      }
      a.destroy()
      b.destroy()
    })

    it('fencing tokens grow across holders, releases and breaks', async () => {
      const a = state()
      const s = service()
      const tokens: number[] = []
      for (let i = 0; i < 3; i++) {
        const lease = await a.lock.acquire(s, holder(`r${i}`))
        tokens.push(lease.token)
        if (i === 1) await a.lock.break(s)
        else await lease.release()
      }
      expect(tokens).toEqual([tokens[0], tokens[0]! + 1, tokens[0]! + 2])
      a.destroy()
    })

    it('renews the lease while held: another runner is refused long past the first lease end', async () => {
      const a = state(600, 150)
      const b = state(600, 150)
      const s = service()
      const lease = await a.lock.acquire(s, holder('long'))
      const first = lease.leaseUntil
      await new Promise((resolve) => setTimeout(resolve, 1500))
      expect(lease.leaseUntil).toBeGreaterThan(first + 500)
      const error = (await b.lock.acquire(s, holder('other')).catch((e: unknown) => e)) as LockedError
      expect(error).toBeInstanceOf(LockedError)
      expect(error.stale).toBe(false)
      expect(lease.lost.aborted).toBe(false)
      lease.assertHeld()
      await lease.release()
      a.destroy()
      b.destroy()
    })

    it('the lease is renewed on the clock of the run that takes it (the engine passes its own)', async () => {
      const clock = new FakeClock({ autoAdvance: false })
      const a = state(60_000)
      const s = service()
      const lease = await a.lock.acquire(s, holder('faked'), { clock })
      expect(lease.leaseUntil).toBe(clock.now() + 60_000)
      const puts = a.calls.put
      // Real time alone renews nothing; 20 s of the run's clock renews once.
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(a.calls.put).toBe(puts)
      await clock.advance(20_000)
      for (let i = 0; i < 100 && lease.leaseUntil !== clock.now() + 60_000; i++) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(lease.leaseUntil).toBe(clock.now() + 60_000)
      expect(a.calls.put).toBe(puts + 1)
      expect((await a.lock.inspect(s))?.leaseUntil).toBe(new Date(clock.now() + 60_000).toISOString())
      await lease.release()
      a.destroy()
    })

    it('a lease not renewed in time is stale: refused, never taken silently; after unlock the old holder is fenced off', async () => {
      // The first runner's timers never fire, as a SIGSTOPped runner's do not: its heartbeat stops.
      const paused: Clock = { ...systemClock, setTimeout: () => undefined, clearTimeout: () => {} }
      const a = state(300, 100, paused)
      const b = state(300, 100)
      const s = service()
      const old = await a.lock.acquire(s, holder('paused'))
      await new Promise((resolve) => setTimeout(resolve, 400))
      const error = (await b.lock.acquire(s, holder('next')).catch((e: unknown) => e)) as LockedError
      expect(error).toBeInstanceOf(LockedError)
      expect(error.stale).toBe(true)
      expect(error.message).toContain('its lease ended at')
      expect(error.message).toContain(`rolling unlock ${s}`)
      expect(await b.lock.break(s)).toMatchObject({ runId: 'paused' })
      const next = await b.lock.acquire(s, holder('next'))
      expect(next.token).toBe(old.token + 1)
      // The old holder's own check refuses its next write, and its lease reports lost.
      expect(() => old.assertHeld()).toThrow(/lost the lock .*fencing token/)
      expect(old.lost.aborted).toBe(true)
      await old.release()
      expect(await b.lock.inspect(s)).toMatchObject({ runId: 'next' })
      await next.release()
      a.destroy()
      b.destroy()
    })

    it('a holder whose lock was broken and taken loses its lease at its next renewal', async () => {
      const a = state(2000, 100)
      const b = state(2000, 100)
      const s = service()
      const old = await a.lock.acquire(s, holder('first'))
      await b.lock.break(s)
      const next = await b.lock.acquire(s, holder('second'))
      const reason = await new Promise<unknown>((resolve) => old.lost.addEventListener('abort', () => resolve(old.lost.reason), { once: true }))
      expect(String((reason as Error).message)).toContain('someone broke or took it over')
      expect(() => old.assertHeld()).toThrow(/lost the lock/)
      await next.release()
      a.destroy()
      b.destroy()
    })

    it('control: messages from another machine arrive in order, once, and never overwrite', async () => {
      const sender = state()
      const receiver = state()
      const s = service()
      const at = (ms: number) => new Date(Date.UTC(2026, 11, 3, 6, 0, 0, ms)).toISOString()
      await sender.control.send(s, { id: 'm1', kind: 'approve', runId: 'run-1', at: at(1), by: 'ana@laptop' })
      await sender.control.send(s, { id: 'm2', kind: 'abort', runId: 'run-1', at: at(2), note: 'bad metrics' })
      expect((await receiver.control.receive(s)).map((m) => [m.id, m.kind])).toEqual([
        ['m1', 'approve'],
        ['m2', 'abort'],
      ])
      expect((await receiver.control.receive(s, { after: 'm1' })).map((m) => m.id)).toEqual(['m2'])
      expect(await receiver.control.receive(s, { after: 'm2' })).toEqual([])
      await expect(sender.control.send(s, { id: 'm2', kind: 'abort', runId: 'run-1', at: at(2) })).rejects.toThrow(/already sent/)
      await expect(sender.control.send(s, { id: 'a/b', kind: 'abort', runId: 'run-1', at: at(3) })).rejects.toThrow(/message.id/)
      sender.destroy()
      receiver.destroy()
    })

    it('journal: written under the lease, read from another machine, resumed there', async () => {
      const a = state()
      const b = state()
      const s = service()
      const lease = await a.lock.acquire(s, holder('run-1'))
      const journal = a.journal(s)
      await journal.reset()
      journal.append({ type: 'start', runId: 'run-1' })
      journal.append({ type: 'batch', i: 0 }, { type: 't', i: 0, s: 'detached' })
      await journal.flush()
      // Another machine reads it as it stands (rolling status).
      expect((await b.journal(s).read()).map((r) => r.type)).toEqual(['start', 'batch', 't'])
      // Without this run's lease (it "died"), its state is broken and resumed elsewhere.
      await b.lock.break(s)
      const taken = await b.lock.acquire(s, holder('run-1-resume'))
      const resumed = b.journal(s)
      expect(await resumed.read()).toHaveLength(3)
      resumed.append({ type: 't', i: 0, s: 'done' })
      await resumed.flush()
      expect((await a.journal(s).read()).at(-1)).toEqual({ type: 't', i: 0, s: 'done' })
      // The old holder's next write is refused, and so is every one after it: here by the
      // journal's compare-and-swap, before its heartbeat has even noticed the lease is gone.
      journal.append({ type: 't', i: 1, s: 'detached' })
      await expect(journal.flush()).rejects.toThrow(
        new RegExp(`written by another run since this one last read it, by the holder of fencing token ${taken.token}, which took the lock over \\(this run's fencing token is ${lease.token}\\)`),
      )
      expect(() => journal.append({ type: 'end' })).toThrow(/written by another run/)
      expect(await b.journal(s).read()).toHaveLength(4)
      await taken.release()
      await lease.release()
      a.destroy()
      b.destroy()
    })

    it('journal: a write by another run since this one read is detected, never merged', async () => {
      const a = state()
      const s = service()
      await a.lock.acquire(s, holder('run-1'))
      const one = a.journal(s)
      const two = a.journal(s)
      await one.reset()
      await two.read()
      one.append({ type: 'start', runId: 'run-1' })
      await one.flush()
      two.append({ type: 'start', runId: 'intruder' })
      await expect(two.flush()).rejects.toThrow(/written by another run since this one last read it/)
      expect(await one.read()).toEqual([{ type: 'start', runId: 'run-1' }])
      a.destroy()
    })

    it('journal: refuses to write without a lease, and a corrupt object names the line', async () => {
      const a = state()
      const s = service()
      const journal = a.journal(s)
      expect(() => journal.append({ type: 'start' })).toThrow(/holds no lease/)
      await expect(journal.flush()).rejects.toThrow(/holds no lease/)
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `teams/${s}/journal.jsonl`, Body: '{"type":"start"}\nnot json\n' }))
      await expect(a.journal(s).read()).rejects.toThrow(/is corrupt at line 2/)
      a.destroy()
    })

    it('a corrupt lock is reported, and unlock clears it with a token above any counter', async () => {
      const a = state()
      const s = service()
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `teams/${s}/lock.json`, Body: '{"holder":' }))
      await expect(a.lock.acquire(s, holder('r1'))).rejects.toThrow(/lock s3:\/\/state\/teams\/.*lock.json is corrupt .*rolling unlock/)
      expect(await a.lock.break(s)).toMatchObject({ runId: 'unknown' })
      const lease = await a.lock.acquire(s, holder('r1'))
      expect(lease.token).toBeGreaterThan(Date.now() - 60_000)
      await lease.release()
      a.destroy()
    })
  })
})

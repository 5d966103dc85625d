// The shared contract suite for Lock implementations (file, memory, S3, yours): one holder at a
// time, a refusal that names the holder, concurrent takers of which exactly one wins, release
// that gives back only one's own lock, and break as the explicit way out of a stale lock.
import { expect } from 'vitest'
import { LockedError, type Lock, type LockHolder } from '../../lock.js'
import { contractSuite, randomSuffix, rejection, type ContractOptions } from './suite.js'

export interface LockFixture {
  lock: Lock
  /** A second Lock on the same store, as another process or machine would open it. @default `lock` */
  other?: Lock
  teardown?(): Promise<void>
}

export const lockTests = {
  acquire: 'acquire takes a free lock and inspect names its holder',
  refuse: 'a second acquire is refused with a LockedError naming the holder',
  release: 'release frees the lock and is idempotent',
  race: 'of 10 concurrent acquires exactly one wins, each other is refused naming the winner',
  break: 'break removes a held lock and returns its holder; the next acquire succeeds',
  foreign: 'release after a break and a new holder leaves the new holder alone',
  services: 'locks of different services are independent',
  invalid: 'an invalid service name is refused before anything is written',
} as const

export type LockTestName = (typeof lockTests)[keyof typeof lockTests]

export function testLock(options: ContractOptions<LockFixture, LockTestName>): void {
  const t = lockTests
  contractSuite('Lock', t, options, (test, get) => {
    const other = () => get().other ?? get().lock
    const holder = (runId: string): LockHolder => ({ runId, pid: process.pid, host: 'contract-host', since: new Date().toISOString(), service: '' })
    const service = () => `svc-${randomSuffix()}`

    test(t.acquire, async () => {
      const s = service()
      const lease = await get().lock.acquire(s, holder('run-a'))
      expect(lease.holder).toMatchObject({ runId: 'run-a', service: s })
      expect(await other().inspect(s)).toMatchObject({ runId: 'run-a', host: 'contract-host', service: s })
      await lease.release()
    })

    test(t.refuse, async () => {
      const s = service()
      const lease = await get().lock.acquire(s, holder('run-a'))
      const error = await rejection(other().acquire(s, holder('run-b')))
      expect(error).toBeInstanceOf(LockedError)
      expect((error as LockedError).code).toBe('LOCKED')
      expect((error as LockedError).holder.runId).toBe('run-a')
      expect((error as LockedError).message).toContain('run-a')
      expect((error as LockedError).message).toContain(s)
      await lease.release()
    })

    test(t.release, async () => {
      const s = service()
      const lease = await get().lock.acquire(s, holder('run-a'))
      await lease.release()
      await lease.release()
      expect(await other().inspect(s)).toBeUndefined()
      const again = await other().acquire(s, holder('run-b'))
      expect(await get().lock.inspect(s)).toMatchObject({ runId: 'run-b' })
      await again.release()
    })

    test(t.race, async () => {
      const s = service()
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? get().lock : other()).acquire(s, holder(`run-${i}`))))
      const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
      expect(won).toHaveLength(1)
      const winner = won[0]!.holder.runId
      for (const o of outcomes) {
        if (o.status === 'fulfilled') continue
        expect(o.reason).toBeInstanceOf(LockedError)
        expect((o.reason as LockedError).holder.runId).toBe(winner)
      }
      expect(await get().lock.inspect(s)).toMatchObject({ runId: winner })
      await won[0]!.release()
    })

    test(t.break, async () => {
      const s = service()
      await get().lock.acquire(s, holder('run-a'))
      expect(await other().break(s)).toMatchObject({ runId: 'run-a' })
      expect(await get().lock.inspect(s)).toBeUndefined()
      expect(await other().break(s)).toBeUndefined()
      const lease = await other().acquire(s, holder('run-b'))
      await lease.release()
    })

    test(t.foreign, async () => {
      const s = service()
      const first = await get().lock.acquire(s, holder('run-a'))
      await other().break(s)
      const second = await other().acquire(s, holder('run-b'))
      await first.release()
      expect(await get().lock.inspect(s)).toMatchObject({ runId: 'run-b' })
      await second.release()
      expect(await get().lock.inspect(s)).toBeUndefined()
    })

    test(t.services, async () => {
      const a = await get().lock.acquire(service(), holder('run-a'))
      const b = await other().acquire(service(), holder('run-b'))
      await a.release()
      await b.release()
    })

    test(t.invalid, async () => {
      for (const bad of ['', '../x', 'a/b', '.hidden']) {
        const error = await rejection(get().lock.acquire(bad, holder('run-a')))
        expect((error as { code?: string }).code).toBe('INVALID_OPTION')
      }
    })
  })
}

// The shared contract suite for ControlChannel implementations (a folder, S3, yours): messages
// sent from another process reach the receiver in the order sent, whole and once; `after`
// gives only the newer ones; services do not share messages; bad input is refused unsent.
import { expect } from 'vitest'
import type { ControlChannel, ControlMessage } from '../../control.js'
import { contractSuite, randomSuffix, rejection, type ContractOptions } from './suite.js'

export interface ControlFixture {
  control: ControlChannel
  /** A second channel on the same store, as another process or machine would open it. @default `control` */
  other?: ControlChannel
  teardown?(): Promise<void>
}

export const controlTests = {
  empty: 'a service nobody sent to has no messages',
  order: 'messages sent from another process arrive in the order sent, with every field',
  after: '`after` gives only the messages sent after that one; after the last, none',
  once: 'a message sent twice arrives once',
  services: 'messages of one service never reach another',
  invalid: 'a bad service name, message id or kind is refused with INVALID_OPTION, nothing sent',
} as const

/** Stable keys for `skip` (`skip: ['once']`). */
export type ControlTestKey = keyof typeof controlTests
export type ControlTestName = (typeof controlTests)[ControlTestKey]

export function testControl(options: ContractOptions<ControlFixture, ControlTestKey>): void {
  const t = controlTests
  contractSuite('ControlChannel', t, options, (test, get) => {
    const other = () => get().other ?? get().control
    const service = () => `svc-${randomSuffix()}`
    let n = 0
    /** Message times a millisecond apart, the order they are sent in. */
    const base = Date.parse('2026-01-01T00:00:00.000Z')
    const message = (kind: ControlMessage['kind'], extra: Partial<ControlMessage> = {}): ControlMessage => {
      n++
      return { id: `m-${randomSuffix()}-${n}`, kind, runId: 'r-contract', at: new Date(base + n).toISOString(), ...extra }
    }

    test(t.empty, async () => {
      expect(typeof get().control.location).toBe('string')
      expect(await get().control.receive(service())).toEqual([])
    })

    test(t.order, async () => {
      const s = service()
      const sent = [
        message('approve', { by: 'ops@laptop', note: 'canary ok: p99 41 ms, "no" 5xx' }),
        message('approve'),
        message('abort', { by: 'ci job 42', note: 'línea\nnueva ✓' }),
      ]
      for (const m of sent) await other().send(s, m)
      expect(await get().control.receive(s)).toEqual(sent)
    })

    test(t.after, async () => {
      const s = service()
      const sent = [message('approve'), message('approve'), message('abort')]
      for (const m of sent) await other().send(s, m)
      expect(await get().control.receive(s, { after: sent[0]?.id })).toEqual(sent.slice(1))
      expect(await get().control.receive(s, { after: sent[2]?.id })).toEqual([])
      const later = message('approve')
      await other().send(s, later)
      expect(await get().control.receive(s, { after: sent[2]?.id })).toEqual([later])
    })

    test(t.once, async () => {
      const s = service()
      const m = message('abort')
      await other().send(s, m)
      // A second send of the same message may be refused or ignored; it is never a second message.
      await other()
        .send(s, m)
        .catch(() => {})
      expect(await get().control.receive(s)).toEqual([m])
    })

    test(t.services, async () => {
      const [a, b] = [service(), service()]
      const m = message('abort')
      await other().send(a, m)
      expect(await get().control.receive(b)).toEqual([])
      expect(await get().control.receive(a)).toEqual([m])
    })

    test(t.invalid, async () => {
      const s = service()
      for (const bad of ['', '../x', 'a/b', '.hidden']) {
        expect(((await rejection(get().control.send(bad, message('abort')))) as { code?: string }).code).toBe('INVALID_OPTION')
      }
      for (const bad of [message('abort', { id: '../escape' }), message('abort', { id: 'a b; rm' }), message('nope' as ControlMessage['kind'])]) {
        expect(((await rejection(get().control.send(s, bad))) as { code?: string }).code).toBe('INVALID_OPTION')
      }
      expect(await get().control.receive(s)).toEqual([])
    })
  })
}

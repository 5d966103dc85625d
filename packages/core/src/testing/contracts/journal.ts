// The shared contract suite for Journal implementations (file, memory, S3, yours): what was
// appended reads back in order and as JSON gives it, from another process too once `flush`
// (when the journal writes behind) has resolved; reset empties it; a record that could not be
// read back is refused at append, before anything is written.
import { expect } from 'vitest'
import type { Journal, StoredRecord } from '../../journal.js'
import { contractSuite, rejection, type ContractOptions } from './suite.js'

export interface JournalHandle {
  /** A new, empty journal, ready to append (a store that writes under a lease holds it). */
  journal: Journal
  /** The same journal as another process or machine would open it to read. @default `journal` */
  reader?: () => Journal
  /** Gives back what `open` took (a lease, a file). */
  close?(): Promise<void>
}

export interface JournalFixture {
  /** Opens a journal of its own (a new service, a new file) for one test. */
  open(): Promise<JournalHandle>
  teardown?(): Promise<void>
}

export const journalTests = {
  order: 'reads back what was appended, in order, one or many records per append',
  empty: 'a journal never written reads as empty',
  reader: 'another process reads what was appended once flush (if any) resolved',
  values: 'records come back as JSON gives them: unicode, newlines, nesting; read returns copies',
  reset: 'reset empties it; only what is appended after it reads back',
  'refuse-type': 'a record without a string type is refused at append with a JOURNAL error; nothing is written',
  'refuse-json': 'a record JSON cannot hold is refused at append with a JOURNAL error; the journal stays readable',
  many: '1,000 records in 100 appends read back exactly, in order',
  closed: 'append after close is refused with a JOURNAL error',
} as const

/** Stable keys for `skip` (`skip: ['many']`). */
export type JournalTestKey = keyof typeof journalTests
export type JournalTestName = (typeof journalTests)[JournalTestKey]

/** What `append` does once its records are durable: `flush` where the journal writes behind. */
const durable = async (journal: Journal) => {
  await journal.flush?.()
}

export function testJournal(options: ContractOptions<JournalFixture, JournalTestKey>): void {
  const t = journalTests
  contractSuite('Journal', t, options, (test, get) => {
    /** Runs `body` on a fresh journal and always gives it back. */
    const using = async (body: (h: Required<Pick<JournalHandle, 'journal' | 'reader'>>) => Promise<void>) => {
      const handle = await get().open()
      try {
        await body({ journal: handle.journal, reader: handle.reader ?? (() => handle.journal) })
      } finally {
        await handle.journal.close().catch(() => {})
        await handle.close?.()
      }
    }
    const rec = (type: string, extra: Record<string, unknown> = {}): StoredRecord => ({ type, ...extra })

    test(t.order, () =>
      using(async ({ journal }) => {
        expect(typeof journal.location).toBe('string')
        expect(journal.location).not.toBe('')
        journal.append(rec('start', { runId: 'r-1' }))
        journal.append(rec('batch', { i: 0 }), rec('t', { i: 0, s: 'detaching' }), rec('t', { i: 1, s: 'detaching' }))
        journal.append()
        journal.append(rec('end', { status: 'succeeded' }))
        await durable(journal)
        expect((await journal.read()).map((r) => r.type)).toEqual(['start', 'batch', 't', 't', 'end'])
      }),
    )

    test(t.empty, () =>
      using(async ({ journal, reader }) => {
        expect(await journal.read()).toEqual([])
        expect(await reader().read()).toEqual([])
      }),
    )

    test(t.reader, () =>
      using(async ({ journal, reader }) => {
        const records = [rec('start', { runId: 'r-2' }), rec('t', { i: 0, s: 'detaching' })]
        journal.append(...records)
        await durable(journal)
        const other = reader()
        expect(await other.read()).toEqual(records)
        journal.append(rec('t', { i: 0, s: 'detached' }))
        await durable(journal)
        expect((await other.read()).at(-1)).toEqual({ type: 't', i: 0, s: 'detached' })
      }),
    )

    test(t.values, () =>
      using(async ({ journal, reader }) => {
        const record = rec('note', {
          text: 'línea\nnueva ✓ "quoted" \\ tab\t',
          target: { id: 'web-1', address: '127.0.0.2', port: 8080, labels: { zone: 'a' } },
          list: [1, 2.5, -3, null, true],
          dropped: undefined,
        })
        journal.append(record)
        await durable(journal)
        const expected = JSON.parse(JSON.stringify(record)) as StoredRecord
        const first = await reader().read()
        expect(first).toEqual([expected])
        expect('dropped' in (first[0] as object)).toBe(false)
        ;(first[0] as unknown as { text: string }).text = 'changed by the caller'
        expect(await journal.read()).toEqual([expected])
      }),
    )

    test(t.reset, () =>
      using(async ({ journal, reader }) => {
        journal.append(rec('start', { runId: 'old' }), rec('end'))
        await durable(journal)
        await journal.reset()
        expect(await journal.read()).toEqual([])
        journal.append(rec('start', { runId: 'new' }))
        await durable(journal)
        expect(await reader().read()).toEqual([{ type: 'start', runId: 'new' }])
      }),
    )

    test(t['refuse-type'], () =>
      using(async ({ journal }) => {
        journal.append(rec('start'))
        for (const bad of [{ note: 'no type' }, { type: 42 }, null]) {
          let thrown: unknown
          try {
            journal.append(rec('t', { i: 0 }), bad as unknown as StoredRecord)
          } catch (error) {
            thrown = error
          }
          expect((thrown as { code?: string } | undefined)?.code).toBe('JOURNAL')
        }
        await durable(journal)
        // Refused whole: the valid record in the same append is not written either.
        expect(await journal.read()).toEqual([{ type: 'start' }])
      }),
    )

    test(t['refuse-json'], () =>
      using(async ({ journal, reader }) => {
        journal.append(rec('start'))
        const circular: Record<string, unknown> = { type: 'loop' }
        circular.self = circular
        for (const bad of [rec('big', { n: 10n }), circular]) {
          let thrown: unknown
          try {
            journal.append(bad as StoredRecord)
          } catch (error) {
            thrown = error
          }
          expect((thrown as { code?: string } | undefined)?.code).toBe('JOURNAL')
        }
        journal.append(rec('end'))
        await durable(journal)
        expect(await reader().read()).toEqual([{ type: 'start' }, { type: 'end' }])
      }),
    )

    test(t.many, () =>
      using(async ({ journal, reader }) => {
        for (let a = 0; a < 100; a++) journal.append(...Array.from({ length: 10 }, (_, k) => rec('t', { i: a * 10 + k, s: 'done' })))
        await durable(journal)
        const read = await reader().read()
        expect(read).toHaveLength(1000)
        expect(read.every((r, n) => (r as { i?: number }).i === n)).toBe(true)
      }),
    )

    test(t.closed, () =>
      using(async ({ journal }) => {
        journal.append(rec('start'))
        await journal.close()
        const error = await rejection(Promise.resolve().then(() => journal.append(rec('late'))))
        expect((error as { code?: string }).code).toBe('JOURNAL')
      }),
    )
  })
}

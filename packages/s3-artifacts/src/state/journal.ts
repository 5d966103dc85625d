// The journal on S3: one JSON-lines object per service, `<prefix><service>/journal.jsonl`,
// replaced by compare-and-swap (`If-Match` on the ETag this run last wrote or read). A write by
// anyone else in between (another runner, a torn takeover) fails ours with 412: detected, never
// merged. Every write first checks this process's lease of the service's lock, and carries its
// fencing token (`x-amz-meta-fencing-token`): a run that lost its lease cannot write and stops at
// its next transition; one that lost a compare-and-swap learns the token of the run that won.
//
// The engine's `append` is synchronous; S3 is not. Records are checked and serialized at once (by
// core's memory journal), then written behind, in order, one PUT per burst of appends; `flush()`
// waits for them (the engine awaits it before each detach and at the end). A write that failed,
// or a lease known to be lost, makes the next `append` throw: the engine journals each step
// before taking it, so a fenced-off run takes no further step.
import { type Journal, RollingError, memoryJournal } from '@org/rolling-core'
import { errorMessage } from '@org/rolling-core/adapter'
import { checkName } from '../names.js'
import type { S3LockLease } from './lock.js'
import type { ObjectStore } from './objects.js'

/** A record as the journal stores it (the engine's records, checked by core's reader on resume). */
type StoredRecord = Parameters<Journal['append']>[number]

export interface S3Journal extends Journal {
  /** Resolves when every appended record is on S3; rejects with the write's error. */
  flush(): Promise<void>
}

export function s3Journal(store: ObjectStore, prefix: string, service: string, leaseOf: () => S3LockLease | undefined): S3Journal {
  checkName('service', service)
  const key = `${prefix}${service}/journal.jsonl`
  const location = `s3://${store.bucket}/${key}`
  const fail = (message: string, cause?: unknown) =>
    new RollingError('JOURNAL', `[rolling] journal ${location}: ${message}`, cause === undefined ? undefined : { cause })
  /** The ETag of the object as this run last saw it: undefined = not read yet, null = absent. */
  let etag: string | null | undefined
  let committed = ''
  let pending = ''
  let failed: Error | undefined
  let chain: Promise<void> = Promise.resolve()
  let closed = false

  const learn = async () => {
    if (etag !== undefined) return
    const current = await store.get(key, (text) => text)
    etag = current?.etag ?? null
    committed = current?.value ?? ''
  }

  /** Fencing: only the holder of a live lease writes. Throws the lease's own LOCKED error when it is lost. */
  const fence = () => {
    const lease = leaseOf()
    if (!lease) throw fail(`this process holds no lease of the lock of ${service}; a journal on S3 is written only under it`)
    lease.assertHeld()
    return lease
  }

  const write = async (body: string) => {
    const lease = fence()
    await learn()
    const answer = await store.put(key, body, etag === null ? { ifNoneMatch: true } : { ifMatch: etag as string }, undefined, {
      'fencing-token': String(lease.token),
    })
    if (answer === 'conflict') {
      const theirs = await store.get(key, () => undefined).then(
        (current) => current?.metadata['fencing-token'],
        () => undefined,
      )
      const by = theirs === undefined ? '' : `, by the holder of fencing token ${theirs}${Number(theirs) > lease.token ? ', which took the lock over' : ''}`
      throw fail(`written by another run since this one last read it${by} (this run's fencing token is ${lease.token}); not merged: stopping`)
    }
    etag = answer
    committed = body
  }

  const enqueue = (step: () => Promise<void>) => {
    chain = chain.then(async () => {
      if (failed) return
      try {
        await step()
      } catch (error) {
        failed = error instanceof RollingError ? error : fail(`cannot write: ${errorMessage(error)}`, error)
      }
    })
    return chain
  }

  return {
    location,
    append(...records: StoredRecord[]) {
      if (closed) throw fail('append after close')
      if (failed) throw failed
      if (records.length === 0) return
      try {
        fence()
      } catch (error) {
        failed = error as Error
        throw error
      }
      // Core's memory journal checks and serializes them: the same rules as the file journal.
      const scratch = memoryJournal()
      scratch.append(...records)
      pending += scratch.records.map((r) => `${JSON.stringify(r)}\n`).join('')
      void enqueue(async () => {
        if (pending === '') return
        const body = committed + pending
        const sent = pending
        await write(body)
        pending = pending.slice(sent.length)
      })
    },
    async flush() {
      await chain
      if (failed) throw failed
    },
    async read() {
      await chain
      const current = await store.get(key, (text) => text)
      if (current === undefined) return []
      // Known to be ours only when nothing is waiting; a reader on another machine just reads.
      if (pending === '') {
        etag = current.etag
        committed = current.value
      }
      return parseLines(current.value, location)
    },
    async reset() {
      await chain
      if (failed) throw failed
      pending = ''
      await enqueue(() => write(''))
      if (failed) throw failed
    },
    async close() {
      closed = true
      await chain
      if (failed) throw failed
    },
  }
}

/** S3 writes whole objects, so there is no torn tail: any line that is not a record is corruption. */
function parseLines(text: string, location: string): StoredRecord[] {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines.map((line, i): StoredRecord => {
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      throw new RollingError('JOURNAL', `[rolling] journal ${location} is corrupt at line ${i + 1}`, { cause: error })
    }
    if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
      throw new RollingError('JOURNAL', `[rolling] journal ${location} is corrupt at line ${i + 1}: not a record with a type`)
    }
    return value as StoredRecord
  })
}

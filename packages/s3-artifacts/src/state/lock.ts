// The S3 lock: one object per service, `<prefix><service>/lock.json`, taken with
// `If-None-Match: *` (or `If-Match` on a free one), held by a lease that a heartbeat renews
// with `If-Match` on its ETag. It never disappears: release and break write it back free,
// so its fencing token (a counter every holder increments) only ever grows. A lease that
// could not be renewed before it ended, or was broken, is lost: `lost` aborts and `assertHeld`
// throws, so the journal (which calls it before every write) refuses the old holder's writes.
import { type AcquireOptions, type Clock, LockedError, type Lock, type LockHolder, type LockLease, RollingError, ValidationError, systemClock } from '@org/rolling-core'
import { errorMessage } from '@org/rolling-core/adapter'
import { checkName } from '../names.js'
import type { ObjectStore } from './objects.js'

export interface S3LockHolder extends LockHolder {
  /** The CI job holding it, when known (GITHUB_RUN_ID, CI_JOB_URL, BUILD_URL). */
  ci?: string
}

interface LockBody {
  /** Undefined when the lock is free. */
  holder?: S3LockHolder
  /** Incremented by every acquire; kept when the lock is released or broken. */
  token: number
  /** ISO-8601 end of the holder's lease. */
  leaseUntil?: string
}

export interface S3LockLease extends LockLease {
  readonly holder: S3LockHolder
  /** The fencing token of this lease: greater than any earlier holder's. */
  readonly token: number
  /** Epoch ms (per the lease's clock) the lease ends unless renewed. */
  readonly leaseUntil: number
  /** Aborts, with the reason, when the lease is lost (renewal refused or too late). */
  readonly lost: AbortSignal
  /** Throws a LOCKED error unless the lease is still held: the fencing check before a write. */
  assertHeld(): void
}

export interface S3Lock extends Lock {
  acquire(service: string, holder: LockHolder, options?: AcquireOptions): Promise<S3LockLease>
  inspect(service: string): Promise<S3LockHolder | undefined>
}

export interface S3LockOptions {
  /** Lease length in ms: how long a paused or dead holder blocks others. @default 60000 */
  leaseMs?: number
  /** Renew every this many ms. @default leaseMs / 3 */
  renewEveryMs?: number
  /** The clock of the lease and its heartbeat. @default the clock of the run that acquires it, else the system clock */
  clock?: Clock
}

const MAX_TIMER = 2 ** 31 - 1

export function ciJob(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.GITHUB_RUN_ID) return `github ${env.GITHUB_REPOSITORY ?? ''} run ${env.GITHUB_RUN_ID}`.replace('  ', ' ')
  return env.CI_JOB_URL ?? env.BUILD_URL ?? undefined
}

export function s3Lock(store: ObjectStore, prefix: string, options: S3LockOptions = {}): S3Lock {
  const leaseMs = options.leaseMs ?? 60_000
  if (!Number.isInteger(leaseMs) || leaseMs < 100 || leaseMs > MAX_TIMER) {
    throw new ValidationError('lock.leaseMs', `expected an integer from 100 to ${MAX_TIMER} ms, got ${String(leaseMs)}`)
  }
  const renewEveryMs = options.renewEveryMs ?? Math.floor(leaseMs / 3)
  if (!Number.isInteger(renewEveryMs) || renewEveryMs < 10 || renewEveryMs >= leaseMs) {
    throw new ValidationError('lock.renewEveryMs', `expected an integer from 10 to below leaseMs (${leaseMs}), got ${String(renewEveryMs)}`)
  }
  const configured = options.clock
  const keyOf = (service: string) => {
    checkName('service', service)
    return `${prefix}${service}/lock.json`
  }
  const where = (service: string) => `s3://${store.bucket}/${keyOf(service)}`
  const read = (service: string) => store.get(keyOf(service), (text) => parseBody(text, where(service)))

  function locked(service: string, body: LockBody & { holder: S3LockHolder }, clock: Clock): LockedError {
    const { holder } = body
    const until = body.leaseUntil ?? 'unknown'
    const who = `run ${holder.runId} (pid ${holder.pid} on host ${holder.host}${holder.ci ? `, ${holder.ci}` : ''}) since ${holder.since}`
    const ended = body.leaseUntil !== undefined && Date.parse(body.leaseUntil) <= clock.now()
    if (ended) {
      return new LockedError(
        holder,
        true,
        `[rolling] service ${service} is locked by ${who}; its lease ended at ${until} (${where(service)}): the holder died or was paused, the lock is stale. ` +
          `Take it over with \`rolling resume\` or \`rolling unlock ${service}\` once you know that run is gone.`,
      )
    }
    return new LockedError(
      holder,
      false,
      `[rolling] service ${service} is already being rolled out by ${who}; its lease runs until ${until} (${where(service)})`,
    )
  }

  return {
    location: `s3://${store.bucket}/${prefix}`,

    async acquire(service, given, how) {
      const clock = configured ?? how?.clock ?? systemClock
      const key = keyOf(service)
      const holder: S3LockHolder = { ...given, service, ...(ciJob() ? { ci: ciJob() } : {}) }
      // A few tries: a release or break may land between our read and our write.
      for (let attempt = 0; attempt < 3; attempt++) {
        const current = await read(service)
        if (current?.value.holder) throw locked(service, current.value as LockBody & { holder: S3LockHolder }, clock)
        const token = (current?.value.token ?? 0) + 1
        const leaseUntil = clock.now() + leaseMs
        const body: LockBody = { holder, token, leaseUntil: new Date(leaseUntil).toISOString() }
        const etag = await store.put(key, body, current ? { ifMatch: current.etag } : { ifNoneMatch: true })
        if (etag === 'conflict') continue
        return startLease(service, key, body, etag, leaseUntil, clock)
      }
      const current = await read(service)
      if (current?.value.holder) throw locked(service, current.value as LockBody & { holder: S3LockHolder }, clock)
      throw new RollingError('LOCKED', `[rolling] service ${service}: the lock ${where(service)} keeps changing hands; try again`)
    },

    async inspect(service) {
      const body = (await read(service))?.value
      return body?.holder ? { ...body.holder, ...(body.leaseUntil ? { leaseUntil: body.leaseUntil } : {}) } : undefined
    },

    async break(service) {
      const key = keyOf(service)
      for (let attempt = 0; attempt < 5; attempt++) {
        let current: Awaited<ReturnType<typeof read>>
        try {
          current = await read(service)
        } catch (error) {
          if (!(error instanceof RollingError && error.message.includes('is corrupt'))) throw error
          // Its token is unreadable: the epoch ms is greater than any counter a lock reaches, so
          // fencing still holds for whoever takes it next.
          await store.put(key, { token: (configured ?? systemClock).now() }, undefined)
          return { runId: 'unknown', pid: 0, host: 'unknown', since: 'unknown', service }
        }
        if (!current?.value.holder) return undefined
        // Written back free with its token, so the next holder's token is still greater.
        if ((await store.put(key, { token: current.value.token }, { ifMatch: current.etag })) !== 'conflict') return current.value.holder
      }
      throw new RollingError('LOCKED', `[rolling] service ${service}: the lock ${where(service)} keeps changing hands; try again`)
    },
  }

  function startLease(
    service: string,
    key: string,
    body: LockBody & { holder?: S3LockHolder },
    firstEtag: string,
    firstUntil: number,
    clock: Clock,
  ): S3LockLease {
    let etag = firstEtag
    let until = firstUntil
    let timer: unknown
    let released: Promise<void> | undefined
    const lost = new AbortController()
    const lose = (why: string) => {
      if (lost.signal.aborted) return
      clock.clearTimeout(timer)
      lost.abort(
        new RollingError(
          'LOCKED',
          `[rolling] service ${service}: lost the lock ${where(service)} (fencing token ${body.token}): ${why}; stopping without further writes`,
        ),
      )
    }
    const beat = async () => {
      if (released || lost.signal.aborted) return
      // Too late to renew: another run may already have taken the lock over.
      if (clock.now() >= until) return lose(`its lease ended at ${new Date(until).toISOString()} before it could be renewed`)
      const next = clock.now() + leaseMs
      try {
        const answer = await store.put(key, { ...body, leaseUntil: new Date(next).toISOString() }, { ifMatch: etag })
        if (answer === 'conflict') return lose('someone broke or took it over')
        etag = answer
        until = next
      } catch {
        // S3 unreachable for a moment: the next beat tries again while the lease lasts.
      }
      if (!released && !lost.signal.aborted) timer = clock.setTimeout(() => void beat(), Math.min(renewEveryMs, Math.max(10, until - clock.now() - 1)))
    }
    timer = clock.setTimeout(() => void beat(), renewEveryMs)
    return {
      holder: body.holder as S3LockHolder,
      token: body.token,
      get leaseUntil() {
        return until
      },
      lost: lost.signal,
      assertHeld() {
        if (!lost.signal.aborted && clock.now() >= until) lose(`its lease ended at ${new Date(until).toISOString()}`)
        if (lost.signal.aborted) throw lost.signal.reason
      },
      release: () =>
        (released ??= (async () => {
          clock.clearTimeout(timer)
          if (lost.signal.aborted) return
          // Only our own lease: a lock broken and taken by another run is theirs now.
          const current = await read(service)
          if (!current || current.value.holder?.runId !== body.holder?.runId || current.value.token !== body.token) return
          await store.put(key, { token: body.token }, { ifMatch: current.etag })
          lost.abort(new RollingError('LOCKED', `[rolling] service ${service}: the lock was released`))
        })().catch((error: unknown) => {
          released = undefined
          throw error
        })),
    }
  }
}

function parseBody(text: string, where: string): LockBody {
  const bad = (why: string) => new RollingError('ADAPTER', `[rolling:s3] the lock ${where} is corrupt (${why}); break it with \`rolling unlock\``)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw bad(errorMessage(error))
  }
  const v = value as Partial<LockBody> | null
  if (typeof v !== 'object' || v === null || !Number.isInteger(v.token)) throw bad('no integer token')
  if (v.holder !== undefined) {
    const h = v.holder as Partial<S3LockHolder>
    if (typeof h.runId !== 'string' || typeof h.host !== 'string' || typeof h.since !== 'string' || typeof h.pid !== 'number')
      throw bad('holder fields missing')
    if (typeof v.leaseUntil !== 'string' || Number.isNaN(Date.parse(v.leaseUntil))) throw bad('no lease end')
  }
  return v as LockBody
}

// `s3State`: the rollout state shared across machines on one S3 prefix: the lock lease with its
// fencing token, the journal (written under that lease) and the control channel.
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import type { ControlChannel, StateStore } from '@org/rolling-core'
import { ValidationError } from '@org/rolling-core'
import { normalizePrefix } from '../names.js'
import { s3Control } from './control.js'
import { type S3Journal, s3Journal } from './journal.js'
import { type S3Lock, type S3LockLease, type S3LockOptions, s3Lock } from './lock.js'
import { type ObjectStore, objectStore } from './objects.js'

export interface S3StateOptions {
  bucket: string
  /** Key prefix of the state; each service gets `<prefix><service>/`. @default '' */
  prefix?: string
  /** A client you configured. Exclusive with `clientConfig`. */
  client?: S3Client
  /** Config for a client the state creates (and `destroy()` closes). */
  clientConfig?: S3ClientConfig
  lock?: S3LockOptions
}

/** The state of every service on one prefix: a StateStore that any machine with the bucket reaches. */
export interface S3State extends StateStore {
  readonly location: string
  readonly lock: S3Lock
  readonly control: ControlChannel
  /** The journal of `service`, written only while this state's lock holds its lease. */
  journal(service: string): S3Journal
  /** S3 calls made so far, by kind. */
  readonly calls: ObjectStore['calls']
  destroy(): void
}

export type { S3Journal, S3Lock, S3LockLease, S3LockOptions }

export function s3State(options: S3StateOptions): S3State {
  if (options === null || typeof options !== 'object') throw new ValidationError('options', `expected an object, got ${String(options)}`)
  if (typeof options.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) {
    throw new ValidationError('bucket', `expected an S3 bucket name (3-63 lowercase letters, digits, . and -), got ${JSON.stringify(options.bucket)}`)
  }
  if (options.client && options.clientConfig) throw new ValidationError('client', 'pass either `client` or `clientConfig`, not both')
  const prefix = normalizePrefix(options.prefix)
  const owned = !options.client
  const client = options.client ?? new S3Client({ ...options.clientConfig })
  const store = objectStore(client, options.bucket)
  const inner = s3Lock(store, prefix, options.lock)
  // The leases this process holds, so its journals can check theirs before every write.
  const leases = new Map<string, S3LockLease>()
  const journals = new Map<string, Set<S3Journal>>()
  const lock: S3Lock = {
    location: inner.location,
    inspect: (service) => inner.inspect(service),
    break: (service) => inner.break(service),
    async acquire(service, holder, how) {
      const lease = await inner.acquire(service, holder, how)
      leases.set(service, lease)
      return {
        ...lease,
        holder: lease.holder,
        token: lease.token,
        get leaseUntil() {
          return lease.leaseUntil
        },
        lost: lease.lost,
        assertHeld: () => lease.assertHeld(),
        release: async () => {
          // The engine releases right after its last append: let those writes land under the lease first.
          await Promise.allSettled([...(journals.get(service) ?? [])].map((journal) => journal.flush()))
          await lease.release()
          if (leases.get(service) === lease) leases.delete(service)
        },
      }
    },
  }
  return {
    location: `s3://${options.bucket}/${prefix}`,
    lock,
    journal(service) {
      const journal = s3Journal(store, prefix, service, () => leases.get(service))
      journals.set(service, (journals.get(service) ?? new Set()).add(journal))
      return journal
    },
    control: s3Control(store, prefix),
    calls: store.calls,
    destroy() {
      if (owned) client.destroy()
    },
  }
}

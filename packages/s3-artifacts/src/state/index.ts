// `s3State`: the rollout state shared across machines on one S3 prefix: the lock lease and the
// control channel (the journal joins them when the engine can await its writes; see README).
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import type { ControlChannel } from '@org/rolling-core'
import { ValidationError } from '@org/rolling-core'
import { normalizePrefix } from '../names.js'
import { s3Control } from './control.js'
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

export interface S3State {
  readonly location: string
  readonly lock: S3Lock
  readonly control: ControlChannel
  /** S3 calls made so far, by kind. */
  readonly calls: ObjectStore['calls']
  destroy(): void
}

export type { S3Lock, S3LockLease, S3LockOptions }

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
  return {
    location: `s3://${options.bucket}/${prefix}`,
    lock: s3Lock(store, prefix, options.lock),
    control: s3Control(store, prefix),
    calls: store.calls,
    destroy() {
      if (owned) client.destroy()
    },
  }
}

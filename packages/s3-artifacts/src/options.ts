// The store's options: documented with their defaults, validated once at the entry point.
import { type S3ClientConfig, S3Client } from '@aws-sdk/client-s3'
import { ValidationError } from '@org/rolling-core'
import { normalizePrefix } from './names.js'

export interface S3ArtifactsOptions {
  /** Bucket holding the builds. @example 'acme-builds' */
  bucket: string
  /**
   * Key prefix under which each service gets a folder; a missing trailing `/` is added.
   * @default '' (the bucket root)
   * @example 'rolling/'
   */
  prefix?: string
  /** A client you configured (region, credentials, endpoint). Exclusive with `clientConfig`. */
  client?: S3Client
  /**
   * Configuration for a client the store creates (and `destroy()` closes). Exclusive with `client`.
   * @default {} (region and credentials from the environment)
   */
  clientConfig?: S3ClientConfig
  /**
   * Lifetime of the presigned GET URLs `locate` returns, in seconds (1 to 604800, S3's maximum).
   * @default 900
   */
  presignExpiresSec?: number
}

export interface S3PublishOptions {
  version: string
  /** ISO-8601 build time. @default now */
  builtAt?: string
  /** Free-form build metadata stored in the manifest. @example { git: '9f1c2e7' } */
  metadata?: Record<string, string>
  /** Name of the stored object inside the version folder. @default the source file's name */
  file?: string
  signal?: AbortSignal
}

const MAX_PRESIGN_SEC = 604_800

export function validate(options: S3ArtifactsOptions): { bucket: string; prefix: string; presignExpiresSec: number } {
  if (options === null || typeof options !== 'object') throw new ValidationError('options', `expected an object, got ${String(options)}`)
  const { bucket, presignExpiresSec = 900 } = options
  // S3's own bucket naming rules, loosely: the point is a clear message before any request.
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ValidationError('bucket', `expected an S3 bucket name (3-63 lowercase letters, digits, . and -), got ${JSON.stringify(bucket)}`)
  }
  if (options.client && options.clientConfig) throw new ValidationError('client', 'pass either `client` or `clientConfig`, not both')
  if (options.client !== undefined && !(options.client instanceof S3Client)) throw new ValidationError('client', 'expected an S3Client from @aws-sdk/client-s3')
  if (!Number.isInteger(presignExpiresSec) || presignExpiresSec < 1 || presignExpiresSec > MAX_PRESIGN_SEC) {
    throw new ValidationError('presignExpiresSec', `expected an integer from 1 to ${MAX_PRESIGN_SEC}, got ${String(presignExpiresSec)}`)
  }
  return { bucket, prefix: normalizePrefix(options.prefix), presignExpiresSec }
}

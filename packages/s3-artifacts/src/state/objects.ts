// Small JSON objects with ETags on S3, and the conditional writes the state store is built on:
// `If-None-Match: *` creates only if absent, `If-Match: <etag>` replaces only what was read.
// A 412 (or 409, S3's answer to two conditional writes in flight on one key) means another
// writer won: the caller reads again, it never merges.
import { GetObjectCommand, PutObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3'
import { RollingError } from '@org/rolling-core'
import { abortReason, errorMessage } from '@org/rolling-core/adapter'

export interface Stored<T> {
  value: T
  etag: string
  /** The object's user metadata (`x-amz-meta-*`), keys in lower case. */
  metadata: Record<string, string>
}

export interface ObjectStore {
  readonly bucket: string
  readonly client: S3Client
  /** The object at `key` and its ETag, or undefined when there is none. */
  get<T>(key: string, parse: (text: string) => T, signal?: AbortSignal): Promise<Stored<T> | undefined>
  /** Writes `value` (JSON, or a string as is) if the condition holds: the new ETag, or 'conflict' when another writer won. */
  put(
    key: string,
    value: unknown,
    condition: { ifNoneMatch: true } | { ifMatch: string } | undefined,
    signal?: AbortSignal,
    metadata?: Record<string, string>,
  ): Promise<string | 'conflict'>
  /** Calls S3 counted by kind, for the call-count figures of the bench and tests. */
  readonly calls: { get: number; put: number; list: number }
}

export function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode
}

export function objectStore(client: S3Client, bucket: string): ObjectStore {
  const calls = { get: 0, put: 0, list: 0 }
  const failure = (error: unknown, what: string, key: string, signal?: AbortSignal) => {
    if (signal?.aborted) return abortReason(signal)
    const name = error instanceof S3ServiceException ? `${error.name}: ` : ''
    // The SDK's own words name no setting; say which one (the CLI's `--state` makes a client from the environment).
    const hint = errorMessage(error) === 'Region is missing' ? ' (set AWS_REGION, or pass a client or clientConfig with a region)' : ''
    return new RollingError('ADAPTER', `[rolling:s3] cannot ${what} s3://${bucket}/${key}: ${name}${errorMessage(error)}${hint}`, { cause: error })
  }
  return {
    bucket,
    client,
    calls,
    async get(key, parse, signal) {
      calls.get++
      let text: string
      let etag: string
      let metadata: Record<string, string>
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal })
        text = (await response.Body?.transformToString('utf8')) ?? ''
        etag = response.ETag ?? ''
        metadata = response.Metadata ?? {}
      } catch (error) {
        const name = (error as { name?: string }).name
        if (!signal?.aborted && (name === 'NoSuchKey' || (statusOf(error) === 404 && name !== 'NoSuchBucket'))) return undefined
        throw failure(error, 'read', key, signal)
      }
      if (etag === '') throw new RollingError('ADAPTER', `[rolling:s3] s3://${bucket}/${key} came back without an ETag: conditional writes need one`)
      return { value: parse(text), etag, metadata }
    },
    async put(key, value, condition, signal, metadata) {
      calls.put++
      const body = typeof value === 'string' ? value : `${JSON.stringify(value)}\n`
      try {
        const response = await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            // A known length: the SDK otherwise treats a large string as a stream of unknown size.
            ContentLength: Buffer.byteLength(body),
            ContentType: typeof value === 'string' ? 'application/x-ndjson' : 'application/json',
            ...(condition && 'ifNoneMatch' in condition ? { IfNoneMatch: '*' } : {}),
            ...(condition && 'ifMatch' in condition ? { IfMatch: condition.ifMatch } : {}),
            ...(metadata ? { Metadata: metadata } : {}),
          }),
          { abortSignal: signal },
        )
        return response.ETag ?? ''
      } catch (error) {
        const status = statusOf(error)
        if (condition && !signal?.aborted && (status === 412 || status === 409)) return 'conflict'
        throw failure(error, 'write', key, signal)
      }
    },
  }
}

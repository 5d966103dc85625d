// The sha256 and size of a build: of a stream while it uploads, of an object as it downloads,
// of a local file before it is published.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { Transform } from 'node:stream'
import { RollingError } from '@org/rolling-core'
import { abortReason, errorMessage, throwIfAborted } from '@org/rolling-core/adapter'

/** A pass-through that hashes and counts what flows into the upload. */
export function hashingStream(): Transform & { result(): { sha256: string; size: number } } {
  const hash = createHash('sha256')
  let size = 0
  let digest: string | undefined
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk)
      size += chunk.length
      callback(null, chunk)
    },
  })
  return Object.assign(stream, {
    result() {
      digest ??= hash.digest('hex')
      return { sha256: digest, size }
    },
  })
}

export async function hashStream(body: AsyncIterable<Uint8Array> | undefined, signal: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  if (body) {
    for await (const chunk of body) {
      throwIfAborted(signal)
      hash.update(chunk)
      size += chunk.byteLength
    }
  }
  return { sha256: hash.digest('hex'), size }
}

export async function hashFile(path: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  try {
    return await hashStream(createReadStream(path, { signal }) as AsyncIterable<Buffer>, signal ?? new AbortController().signal)
  } catch (error) {
    if (signal?.aborted) throw abortReason(signal)
    throw new RollingError('INVALID_OPTION', `[rolling:s3] source file ${path} cannot be read: ${errorMessage(error)}`, { cause: error })
  }
}

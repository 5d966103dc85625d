// SFTP upload: the file is streamed from the controller to the host over the pooled
// connection (its own SFTP channel), never read whole into memory. An abort or a deadline
// destroys both streams; a partial file may stay behind, and the recipe writes to a temp name.
import { createReadStream } from 'node:fs'
import { performance } from 'node:perf_hooks'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { SFTPWrapper } from 'ssh2'
import { type AdapterContext } from '@org/rolling-core'
import { abortReason } from '@org/rolling-core/adapter'
import type { Connection } from './connection.js'
import { SshError } from './errors.js'

export interface UploadResult {
  bytes: number
  durationMs: number
}

export async function uploadOn(
  connection: Connection,
  source: string | Readable,
  remotePath: string,
  where: string,
  ctx: AdapterContext,
  options: { mode?: number; timeoutMs?: number },
): Promise<UploadResult> {
  const started = performance.now()
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
    connection.client.sftp((error, session) => {
      if (error) reject(new SshError('upload', `[rolling:ssh] ${where} refused an SFTP session: ${error.message}`, { cause: error }))
      else {
        // Permanent: a session torn down under a write emits 'error'; the pipeline reports it.
        session.on('error', () => {})
        resolve(session)
      }
    })
  })
  const timeout = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs)
  const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal
  let bytes = 0
  let offClose = () => {}
  try {
    const input = typeof source === 'string' ? createReadStream(source) : source
    input.on('data', (chunk: Buffer) => {
      bytes += chunk.length
    })
    const output = sftp.createWriteStream(remotePath, { mode: options.mode ?? 0o600 })
    const lost = new Promise<never>((_, reject) => {
      offClose = connection.onClose((reason) =>
        reject(new SshError('connection-lost', `[rolling:ssh] connection to ${where} was lost during the upload to ${remotePath}: ${reason}`)),
      )
    })
    lost.catch(() => {})
    await Promise.race([pipeline(input, output, { signal }), lost])
  } catch (error) {
    if (ctx.signal.aborted) throw abortReason(ctx.signal)
    if (timeout?.aborted)
      throw new SshError('upload', `[rolling:ssh] upload to ${where}:${remotePath} did not finish within ${options.timeoutMs} ms`, {
        cause: error,
        code: 'EXEC_TIMEOUT',
      })
    if (error instanceof SshError) throw error
    throw new SshError('upload', `[rolling:ssh] upload to ${where}:${remotePath} failed: ${(error as Error).message}`, { cause: error })
  } finally {
    offClose()
    sftp.end()
  }
  return { bytes, durationMs: performance.now() - started }
}

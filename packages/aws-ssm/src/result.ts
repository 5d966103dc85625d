// What a finished invocation becomes: SSM's statuses mapped to the Executor contract's
// result or errors, its 24,000-character cap named, and the output replayed as events.
import { performance } from 'node:perf_hooks'
import type { GetCommandInvocationCommandOutput } from '@aws-sdk/client-ssm'
import { type AdapterContext, type ExecResult, RollingError } from '@org/rolling-core'
import { OutputStream } from '@org/rolling-core/adapter'
import type { ResolvedOptions } from './options.js'

/** SSM keeps only the first 24,000 characters of each stream in GetCommandInvocation. */
export const SSM_OUTPUT_LIMIT = 24_000

export interface SsmExecResult extends ExecResult {
  commandId: string
  instanceId: string
  /** SSM's `Status` / `StatusDetails` of the invocation. */
  status: string
  statusDetails: string
  /** Which streams SSM cut at 24,000 characters. */
  truncated: { stdout: boolean; stderr: boolean }
  /** Why the output is incomplete and where the full output is, when it is. */
  note?: string
  /** S3 URLs of the full output, when `outputS3` is set. */
  outputUrls?: { stdout?: string; stderr?: string }
}

export interface ResultContext {
  commandId: string
  instanceId: string
  where: string
  shown: string
  secrets: readonly string[]
  started: number
  ctx: AdapterContext
  settings: ResolvedOptions
}

export function toResult(inv: GetCommandInvocationCommandOutput, r: ResultContext): SsmExecResult {
  const status = inv.Status ?? 'Unknown'
  const details = inv.StatusDetails ?? status
  const label = `command ${r.commandId} on ${r.where}`
  if (status === 'TimedOut' || details === 'ExecutionTimedOut') {
    throw new RollingError('EXEC_TIMEOUT', `[rolling:ssm] ${label} timed out (${details}): ${r.shown}`)
  }
  if (details === 'DeliveryTimedOut' || details === 'Undeliverable' || details === 'Terminated') {
    throw new RollingError('EXEC_FAILED', `[rolling:ssm] ${label} did not run (${details}): is the SSM agent online? ${r.shown}`)
  }
  if (status === 'Cancelled') throw new RollingError('EXEC_FAILED', `[rolling:ssm] ${label} was cancelled outside this rollout: ${r.shown}`)
  const code = inv.ResponseCode
  if (code === undefined || code < 0) {
    throw new RollingError('EXEC_FAILED', `[rolling:ssm] ${label} ended ${status}/${details} without an exit code: ${r.shown}`)
  }

  const rawOut = inv.StandardOutputContent ?? ''
  const rawErr = inv.StandardErrorContent ?? ''
  const truncated = { stdout: rawOut.length >= SSM_OUTPUT_LIMIT, stderr: rawErr.length >= SSM_OUTPUT_LIMIT }
  // SSM does not stream: the whole output arrives at the end, stdout first, then stderr.
  const stdout = new OutputStream('stdout', r.secrets, r.settings.maxOutputChars, r.ctx, 'ssm')
  stdout.write(Buffer.from(rawOut))
  stdout.end()
  const stderr = new OutputStream('stderr', r.secrets, r.settings.maxOutputChars, r.ctx, 'ssm')
  stderr.write(Buffer.from(rawErr))
  stderr.end()

  const urls = { stdout: inv.StandardOutputUrl || undefined, stderr: inv.StandardErrorUrl || undefined }
  const result: SsmExecResult = {
    exitCode: code,
    signal: null,
    stdout: stdout.text(),
    stderr: stderr.text(),
    durationMs: performance.now() - r.started,
    commandId: r.commandId,
    instanceId: r.instanceId,
    status,
    statusDetails: details,
    truncated,
  }
  if (r.settings.outputS3) result.outputUrls = urls
  if (truncated.stdout || truncated.stderr) {
    const streams = [truncated.stdout && 'stdout', truncated.stderr && 'stderr'].filter(Boolean).join(' and ')
    const full = r.settings.outputS3
      ? `the full output is in ${[urls.stdout, urls.stderr].filter(Boolean).join(' and ') || `s3://${r.settings.outputS3.bucket}/${r.settings.outputS3.prefix}`}`
      : 'set `outputS3` to keep the full output'
    result.note = `SSM truncated ${streams} to its first ${SSM_OUTPUT_LIMIT.toLocaleString('en-US')} characters; ${full}`
    r.ctx.log.warn(`[rolling:ssm] ${label}: ${result.note}`, { commandId: r.commandId, instanceId: r.instanceId, truncated })
  }
  return result
}

// Options of `ssmExecutor`: documented with their defaults, validated once, never mutated.
import type { SSMClient, SSMClientConfig } from '@aws-sdk/client-ssm'
import { type Target, ValidationError } from '@org/rolling-core'
import { checkMs } from '@org/rolling-core/adapter'
import { MAX_INSTANCES_PER_COMMAND } from './batch.js'

export interface SsmExecutorOptions {
  /** A client to use (and not destroy on `close()`); otherwise one is made from `clientConfig`. */
  client?: SSMClient
  /** Config for the client made when `client` is absent (region, credentials, endpoint...). @default {} */
  clientConfig?: SSMClientConfig
  /**
   * The managed instance id (`i-…` or `mi-…`) a target runs on.
   * @default (target) => target.labels?.instanceId ?? target.id
   */
  instanceId?: (target: Target) => string
  /** First delay between GetCommandInvocation polls; it grows ×1.5 with jitter up to `maxPollMs`. @default 500 */
  pollMs?: number
  /** Longest delay between polls. @default 5000 */
  maxPollMs?: number
  /** SSM's `executionTimeout` for commands without `timeoutMs` (1..172800). @default 3600 */
  executionTimeoutSec?: number
  /** SendCommand `TimeoutSeconds`: how long SSM tries to reach an offline instance (30..2592000). @default 600 */
  deliveryTimeoutSec?: number
  /**
   * Where SSM writes the full output; GetCommandInvocation keeps only 24,000 characters per stream.
   * @example { bucket: 'my-ssm-logs', prefix: 'rolling/' }
   */
  outputS3?: { bucket: string; prefix?: string }
  /** How long a run waits for runs of the same command to other instances, to send them together. @default 20 */
  batchWindowMs?: number
  /** Instances per SendCommand (SSM allows 50). @default 50 */
  maxBatchSize?: number
  /**
   * Retries of a throttled call, with full-jitter exponential backoff: the SDK's own retry strategy,
   * put on every command the executor sends, in place of the client's (its `maxAttempts` does not add to it).
   * @default 8
   */
  throttleRetries?: number
  /** First backoff cap after throttling. @default 200 */
  throttleBaseMs?: number
  /** Largest backoff cap after throttling. @default 10000 */
  throttleMaxMs?: number
  /** Characters of stdout and of stderr kept in the result. @default 1048576 */
  maxOutputChars?: number
  /** How long an aborted run waits for its CancelCommand before rejecting. @default 2000 */
  cancelWaitMs?: number
}

export interface ResolvedOptions {
  instanceId: (target: Target) => string
  pollMs: number
  maxPollMs: number
  executionTimeoutSec: number
  deliveryTimeoutSec: number
  outputS3: { bucket: string; prefix: string } | undefined
  batchWindowMs: number
  maxBatchSize: number
  throttleRetries: number
  throttleBaseMs: number
  throttleMaxMs: number
  maxOutputChars: number
  cancelWaitMs: number
}

export function resolveOptions(options: SsmExecutorOptions): ResolvedOptions {
  const o = {
    instanceId: (target: Target) => target.labels?.instanceId ?? target.id,
    pollMs: 500,
    maxPollMs: 5000,
    executionTimeoutSec: 3600,
    deliveryTimeoutSec: 600,
    batchWindowMs: 20,
    maxBatchSize: MAX_INSTANCES_PER_COMMAND,
    throttleRetries: 8,
    throttleBaseMs: 200,
    throttleMaxMs: 10_000,
    maxOutputChars: 1024 * 1024,
    cancelWaitMs: 2000,
    ...stripUndefined(options),
  }
  const number = (name: keyof typeof o, min: number, max = Number.POSITIVE_INFINITY, integer = false) => {
    const value = o[name] as unknown
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `in ${min}..${max}`
      throw new ValidationError(name, `expected ${integer ? 'an integer' : 'a finite number'} ${range}, got ${String(value)}`)
    }
  }
  // Durations end in timers: the core's check also refuses one above Node's timer ceiling.
  for (const [name, min] of [
    ['pollMs', 1],
    ['maxPollMs', 1],
    ['batchWindowMs', 0],
    ['throttleBaseMs', 0],
    ['throttleMaxMs', 0],
    ['cancelWaitMs', 0],
  ] as const)
    checkMs(name, o[name], { min })
  number('executionTimeoutSec', 1, 172_800, true)
  number('deliveryTimeoutSec', 30, 2_592_000, true)
  number('maxBatchSize', 1, MAX_INSTANCES_PER_COMMAND, true)
  number('throttleRetries', 0, 100, true)
  number('maxOutputChars', 0, Number.POSITIVE_INFINITY, true)
  if (typeof o.instanceId !== 'function') throw new ValidationError('instanceId', `expected a function, got ${typeof o.instanceId}`)
  let outputS3: ResolvedOptions['outputS3']
  if (options.outputS3 !== undefined) {
    const { bucket, prefix = '' } = options.outputS3
    if (typeof bucket !== 'string' || bucket === '') throw new ValidationError('outputS3.bucket', `expected a bucket name, got ${JSON.stringify(bucket)}`)
    if (typeof prefix !== 'string') throw new ValidationError('outputS3.prefix', `expected a string, got ${typeof prefix}`)
    outputS3 = { bucket, prefix }
  }
  return {
    instanceId: o.instanceId,
    pollMs: o.pollMs,
    maxPollMs: Math.max(o.pollMs, o.maxPollMs),
    executionTimeoutSec: o.executionTimeoutSec,
    deliveryTimeoutSec: o.deliveryTimeoutSec,
    outputS3,
    batchWindowMs: o.batchWindowMs,
    maxBatchSize: o.maxBatchSize,
    throttleRetries: o.throttleRetries,
    throttleBaseMs: o.throttleBaseMs,
    throttleMaxMs: o.throttleMaxMs,
    maxOutputChars: o.maxOutputChars,
    cancelWaitMs: o.cancelWaitMs,
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

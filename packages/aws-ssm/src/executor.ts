// The SSM executor: runs commands on EC2/managed instances with Run Command
// (AWS-RunShellScript), batching concurrent runs of one command into one SendCommand,
// polling each invocation until it ends, and replaying its output through ctx.output.
import { performance } from 'node:perf_hooks'
import { CancelCommandCommand, GetCommandInvocationCommand, type GetCommandInvocationCommandOutput, SSMClient, SendCommandCommand } from '@aws-sdk/client-ssm'
import { type AdapterContext, type ExecRequest, type Executor, RollingError, type Target, TimeoutError, ValidationError, shellQuote } from '@org/rolling-core'
import { abortReason, childSignal, describeTarget, errorMessage, maskSecrets, raceAbort, truncate, waitUntil } from '@org/rolling-core/adapter'
import { errorName, throttleRetries } from './aws.js'
import { CommandBatcher, MAX_INSTANCES_PER_COMMAND } from './batch.js'
import { type SsmExecutorOptions, resolveOptions, type ResolvedOptions } from './options.js'
import { SSM_OUTPUT_LIMIT, type SsmExecResult, toResult } from './result.js'

const TERMINAL_STATUS = new Set(['Success', 'Failed', 'Cancelled', 'TimedOut'])
const TERMINAL_DETAILS = new Set(['Success', 'Failed', 'Cancelled', 'TimedOut', 'Undeliverable', 'Terminated', 'DeliveryTimedOut', 'ExecutionTimedOut'])

export interface SsmExecutor extends Executor {
  run(target: Target, request: string | ExecRequest, ctx: AdapterContext): Promise<SsmExecResult>
  readonly client: SSMClient
}

export function ssmExecutor(options: SsmExecutorOptions = {}): SsmExecutor {
  const settings = resolveOptions(options)
  const ownClient = !options.client
  const client = options.client ?? new SSMClient({ ...options.clientConfig })
  const retrying = throttleRetries({ retries: settings.throttleRetries, baseMs: settings.throttleBaseMs, maxMs: settings.throttleMaxMs, random: Math.random })

  const batcher = new CommandBatcher(settings.batchWindowMs, settings.maxBatchSize, async (key, instanceIds) => {
    // The key is the command spec itself, so a batch needs no other state.
    const spec = JSON.parse(key) as CommandSpec
    const sendTo = async (ids: string[]) => {
      const out = await client.send(
        retrying(
          new SendCommandCommand({
            DocumentName: 'AWS-RunShellScript',
            InstanceIds: ids,
            Comment: spec.comment,
            TimeoutSeconds: settings.deliveryTimeoutSec,
            Parameters: {
              commands: [spec.script],
              executionTimeout: [String(spec.executionTimeoutSec)],
              ...(spec.workingDirectory === undefined ? {} : { workingDirectory: [spec.workingDirectory] }),
            },
            ...(settings.outputS3 ? { OutputS3BucketName: settings.outputS3.bucket, OutputS3KeyPrefix: settings.outputS3.prefix } : {}),
          }),
        ),
      )
      const id = out.Command?.CommandId
      if (!id) throw new RollingError('ADAPTER', `[rolling:ssm] SendCommand to ${ids.join(', ')} returned no CommandId`)
      return id
    }
    const result = new Map<string, string | Error>()
    try {
      const id = await sendTo(instanceIds)
      for (const i of instanceIds) result.set(i, id)
    } catch (error) {
      // One unknown instance fails the whole call; send to each alone so only that one fails.
      if (instanceIds.length === 1 || errorName(error) !== 'InvalidInstanceId') throw sendError(instanceIds, error)
      await Promise.all(
        instanceIds.map(async (i) => {
          try {
            result.set(i, await sendTo([i]))
          } catch (single) {
            result.set(i, sendError([i], single))
          }
        }),
      )
    }
    return result
  })

  const cancel = async (commandId: string, instanceId: string, ctx: AdapterContext) => {
    try {
      await client.send(retrying(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] })))
    } catch (error) {
      ctx.log.warn(`[rolling:ssm] could not cancel command ${commandId} on ${instanceId}: ${errorMessage(error)}`, { commandId, instanceId })
    }
  }

  return {
    name: 'ssm',
    client,
    async run(target, input, ctx) {
      const request: ExecRequest = typeof input === 'string' ? { command: input } : input
      const spec = commandSpec(target, request, settings)
      const instanceId = settings.instanceId(target)
      if (typeof instanceId !== 'string' || instanceId === '') {
        throw new ValidationError('instanceId', `expected a non-empty instance id for ${describeTarget(target)}, got ${JSON.stringify(instanceId)}`)
      }
      if (ctx.signal.aborted) throw abortReason(ctx.signal)
      const where = `${describeTarget(target)} [${instanceId}]`
      const secrets = request.secrets ?? []
      const shown = truncate(maskSecrets(request.command, secrets), 200)
      const started = performance.now()

      // One signal for both ways a run stops early: the caller's abort and `timeoutMs`.
      const timeoutMs = request.timeoutMs
      const stop = childSignal(ctx.signal, { clock: ctx.clock, timeoutMs, onTimeout: () => execTimeout(where, timeoutMs ?? 0, shown) })

      const sent = batcher.add(JSON.stringify(spec), instanceId, stop.signal)
      let commandId: string | undefined
      try {
        commandId = await raceAbort(sent, stop.signal)
        ctx.log.debug(`[rolling:ssm] command ${commandId} sent to ${where}: ${shown}`, { commandId, instanceId })
        // An invocation is never done at once; the first look waits one poll interval.
        await ctx.clock.sleep(settings.pollMs, stop.signal)
        const id = commandId
        const invocation = await waitUntil<GetCommandInvocationCommandOutput>(
          async () => {
            try {
              const out = await pollOnce(client, retrying(new GetCommandInvocationCommand({ CommandId: id, InstanceId: instanceId })), stop.signal)
              if (TERMINAL_STATUS.has(out.Status ?? '') || TERMINAL_DETAILS.has(out.StatusDetails ?? '')) return { state: 'done', value: out }
              return { state: 'retry', observed: `${out.Status}/${out.StatusDetails}` }
            } catch (error) {
              // Eventual consistency: a fresh command's invocation can be unknown for a moment.
              if (errorName(error) === 'InvocationDoesNotExist') return { state: 'retry', observed: 'InvocationDoesNotExist' }
              throw error
            }
          },
          {
            what: `command ${id} on ${where}`,
            timeoutMs: (spec.executionTimeoutSec + settings.deliveryTimeoutSec) * 1000 + 60_000,
            minDelayMs: settings.pollMs,
            maxDelayMs: settings.maxPollMs,
            signal: stop.signal,
            clock: ctx.clock,
          },
        )
        return toResult(invocation, { commandId: id, instanceId, where, shown, secrets, started, ctx, settings })
      } catch (error) {
        if (stop.signal.aborted) {
          // Stop the remote process too; a command still in flight is cancelled once it has an id.
          if (commandId !== undefined) await boundedCancel(cancel(commandId, instanceId, ctx), settings.cancelWaitMs)
          else
            sent.then(
              (id) => cancel(id, instanceId, ctx),
              () => {},
            )
          throw abortReason(stop.signal)
        }
        if (error instanceof TimeoutError) {
          if (commandId !== undefined) await boundedCancel(cancel(commandId, instanceId, ctx), settings.cancelWaitMs)
          throw new RollingError('EXEC_TIMEOUT', `[rolling:ssm] command ${commandId} on ${where} did not finish: ${error.message}`, { cause: error })
        }
        if (error instanceof RollingError) throw error
        throw new RollingError('ADAPTER', `[rolling:ssm] command on ${where} failed: ${maskSecrets(errorMessage(error), secrets)}`, { cause: error })
      } finally {
        stop.dispose()
      }
    },
    async close() {
      if (ownClient) client.destroy()
    },
  }
}

interface CommandSpec {
  script: string
  workingDirectory?: string
  executionTimeoutSec: number
  comment: string
}

/** Everything that goes into SendCommand except the instances: equal specs share one command. */
function commandSpec(target: Target, request: ExecRequest, settings: ResolvedOptions): CommandSpec {
  if (typeof request.command !== 'string' || request.command.trim() === '') {
    throw new ValidationError('command', `expected a non-empty command line for ${describeTarget(target)}`)
  }
  const { timeoutMs } = request
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new ValidationError('timeoutMs', `expected a finite number > 0, got ${timeoutMs}`)
  }
  const lines: string[] = []
  for (const [name, value] of Object.entries(request.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ValidationError('env', `expected a shell variable name, got ${JSON.stringify(name)}`)
    lines.push(`export ${name}=${shellQuote(value)}`)
  }
  lines.push(request.command)
  // SSM's own limit is 1..172800 s; `timeoutMs` is enforced to the millisecond here, SSM is the backstop.
  const executionTimeoutSec = timeoutMs === undefined ? settings.executionTimeoutSec : Math.min(172_800, Math.max(1, Math.ceil(timeoutMs / 1000)))
  const spec: CommandSpec = {
    script: lines.join('\n'),
    executionTimeoutSec,
    comment: truncate(`rolling: ${maskSecrets(request.command, request.secrets ?? [])}`.replace(/\s+/g, ' '), 100),
  }
  if (request.cwd !== undefined) spec.workingDirectory = request.cwd
  return spec
}

function execTimeout(where: string, ms: number, shown: string): RollingError {
  return new RollingError('EXEC_TIMEOUT', `[rolling:ssm] command on ${where} timed out after ${ms}ms: ${shown}`)
}

function sendError(instanceIds: string[], error: unknown): RollingError {
  return new RollingError('ADAPTER', `[rolling:ssm] SendCommand to ${instanceIds.join(', ')} failed: ${errorMessage(error)}`, { cause: error })
}

/**
 * One GetCommandInvocation. The SDK's HTTP handler may leave its listener on the signal it is
 * given, so each call gets its own child signal, unlinked afterwards: polls do not pile up listeners.
 */
async function pollOnce(client: SSMClient, command: GetCommandInvocationCommand, signal: AbortSignal): Promise<GetCommandInvocationCommandOutput> {
  const child = childSignal(signal)
  try {
    return await client.send(command, { abortSignal: child.signal })
  } finally {
    child.dispose()
  }
}

/** Waits for the cancel at most `ms`: the caller asked to stop now, the cancel may finish behind it. */
async function boundedCancel(cancel: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([cancel, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}

export { MAX_INSTANCES_PER_COMMAND, SSM_OUTPUT_LIMIT, type SsmExecResult }

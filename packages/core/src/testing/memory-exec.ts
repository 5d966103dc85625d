// An in-memory executor: a handler stands in for the remote shell. It keeps the
// contract's edges (timeouts, aborts, streamed and masked output) so engine tests
// exercise the same paths a real executor would.
import type { AdapterContext, Clock, ExecRequest, ExecResult, Executor, Target } from '../types.js'
import { abortReason, describeTarget, RollingError, throwIfAborted } from '../errors.js'
import { formatMs } from '../clock.js'
import { maskSecrets } from '../shell.js'
import { isPromiseLike } from './util.js'
import { type ChildSignal, childSignal, raceAbort } from '../signals.js'

/** What a handler sees: the call's context, with `signal` covering the timeout and `output` masking secrets. */
export interface MemoryExecContext extends AdapterContext {
  output: (stream: 'stdout' | 'stderr', chunk: string) => void
}

/** Interprets one command. Output returned here is streamed after anything the handler streamed itself. */
export type MemoryExecHandler = (
  target: Target,
  request: ExecRequest,
  ctx: MemoryExecContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: lets a handler be `async () => {}` or return `clock.sleep(...)`
) => Partial<ExecResult> | void | Promise<Partial<ExecResult> | void>

export interface MemoryExecutorOptions {
  handler: MemoryExecHandler
  /** @default the clock of each call's context */
  clock?: Clock
  /** Simulated round trip before the handler runs. @default 0 */
  latencyMs?: number
  /** @default 'memory' */
  name?: string
}

export interface MemoryExecutor extends Executor {
  /** Every command started, in order. */
  readonly commands: { targetId: string; command: string }[]
}

export function memoryExecutor(options: MemoryExecutorOptions): MemoryExecutor {
  const name = options.name ?? 'memory'
  const latencyMs = options.latencyMs ?? 0
  const commands: { targetId: string; command: string }[] = []

  return {
    name,
    commands,
    async run(target, input, ctx) {
      const request: ExecRequest = typeof input === 'string' ? { command: input } : input
      throwIfAborted(ctx.signal)
      commands.push({ targetId: target.id, command: request.command })
      const clock = options.clock ?? ctx.clock
      const started = clock.now()
      const call = childSignal(ctx.signal, {
        clock,
        timeoutMs: request.timeoutMs,
        onTimeout: () => new RollingError('EXEC_TIMEOUT', `[rolling:${name}] command on ${describeTarget(target)} timed out after ${formatMs(request.timeoutMs ?? 0)}`),
      })
      let stdout = ''
      let stderr = ''
      const output = (stream: 'stdout' | 'stderr', chunk: string) => {
        if (call.aborted || chunk === '') return
        const masked = maskSecrets(chunk, request.secrets)
        if (stream === 'stdout') stdout += masked
        else stderr += masked
        ctx.output?.(stream, masked)
      }
      try {
        if (latencyMs > 0) await clock.sleep(latencyMs, call.signal)
        let handled = options.handler(target, request, new HandlerContext(ctx, clock, output, call))
        if (isPromiseLike(handled)) handled = await raceAbort(handled, call.signal)
        const result = handled ?? {}
        if (result.stdout) output('stdout', result.stdout)
        if (result.stderr) output('stderr', result.stderr)
        return {
          exitCode: result.exitCode === undefined ? 0 : result.exitCode,
          signal: result.signal ?? null,
          stdout,
          stderr,
          durationMs: clock.now() - started,
        }
      } catch (error) {
        // A timeout or abort wins over whatever the handler did when it was cut off.
        if (call.aborted) throw abortReason(call.signal)
        if (error instanceof Error) error.message = maskSecrets(error.message, request.secrets)
        throw error
      } finally {
        call.dispose()
      }
    },
  }
}

/**
 * The handler's context: the call's, with `signal` covering the timeout (made on first read)
 * and `output` masking secrets. A class, not a literal with a getter: see signals.ts.
 */
class HandlerContext implements MemoryExecContext {
  readonly log: AdapterContext['log']
  declare readonly deadline?: number
  declare readonly drain?: AdapterContext['drain']
  declare readonly resumedDetach?: AdapterContext['resumedDetach']
  readonly #call: ChildSignal

  constructor(
    ctx: AdapterContext,
    readonly clock: Clock,
    readonly output: MemoryExecContext['output'],
    call: ChildSignal,
  ) {
    this.log = ctx.log
    if (ctx.deadline !== undefined) (this as { deadline?: number }).deadline = ctx.deadline
    if (ctx.drain !== undefined) (this as { drain?: AdapterContext['drain'] }).drain = ctx.drain
    if (ctx.resumedDetach !== undefined) (this as { resumedDetach?: AdapterContext['resumedDetach'] }).resumedDetach = ctx.resumedDetach
    this.#call = call
  }

  get signal(): AbortSignal {
    return this.#call.signal
  }
}

// Every AWS call of the adapter goes through `caller`: Describe calls are spaced by one
// shared limiter on the engine's clock (AWS rate-limits Describe* per account), and SDK
// errors become ElbError naming the action. Retrying throttled and transient calls is the
// SDK's own standard retry strategy, configured with our attempts and backoff and put on each
// command, so a client's own retries never stack under ours (its sleeps end on abort).
import type { AdapterContext } from '@org/rolling-core'
import { isAbortError, throwIfAborted } from '@org/rolling-core/adapter'
import { ConfiguredRetryStrategy, getRetryPlugin } from '@smithy/core/retry'
import { ElbError } from './errors.js'

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException'])

export interface CallerOptions {
  /** Minimum time between two Describe calls of this adapter. */
  describeIntervalMs: number
  /** Retries of a throttled (or transient: 5xx, connection reset) call before giving up. */
  maxThrottleRetries: number
  /** First backoff after a throttled call; doubles, with jitter, up to 20 s. */
  throttleBaseMs: number
  random?: () => number
}

type Command = { middlewareStack: { use(plugin: ReturnType<typeof getRetryPlugin>): void } }
/** Puts the adapter's retry policy on one command. */
export type Retrying = <C extends Command>(command: C) => C

export type Send = <T>(action: string, call: (abortSignal: AbortSignal, retrying: Retrying) => Promise<T>, ctx: AdapterContext) => Promise<T>

export function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; code?: string } | undefined
  return THROTTLING.has(e?.name ?? '') || THROTTLING.has(e?.Code ?? '') || THROTTLING.has(e?.code ?? '')
}

export function caller(options: CallerOptions): Send {
  const random = options.random ?? Math.random
  const attempts = options.maxThrottleRetries + 1
  // Half the cap plus a random half: never two retries at once, never a zero wait.
  const backoff = (attempt: number) => {
    const cap = Math.min(20_000, options.throttleBaseMs * 2 ** (attempt - 1))
    return cap / 2 + (random() * cap) / 2
  }
  // One strategy for the adapter: its retry quota is shared by every call, as the SDK intends.
  const strategy = new ConfiguredRetryStrategy(attempts, backoff)
  const plugin = getRetryPlugin({ retryStrategy: async () => strategy, maxAttempts: async () => attempts })
  const retrying: Retrying = (command) => {
    command.middlewareStack.use(plugin)
    return command
  }
  // The time the next Describe call may start; a chain, so concurrent calls queue.
  let nextDescribeAt = 0
  let queue: Promise<void> = Promise.resolve()

  const spaced = (ctx: AdapterContext): Promise<void> => {
    const turn = queue.then(async () => {
      const wait = nextDescribeAt - ctx.clock.now()
      if (wait > 0) await ctx.clock.sleep(wait, ctx.signal)
      nextDescribeAt = ctx.clock.now() + options.describeIntervalMs
    })
    queue = turn.catch(() => {})
    return turn
  }

  return async (action, call, ctx) => {
    throwIfAborted(ctx.signal)
    if (action.startsWith('Describe')) await spaced(ctx)
    try {
      return await call(ctx.signal, retrying)
    } catch (error) {
      if (ctx.signal.aborted || isAbortError(error)) throw error
      if (isThrottling(error)) {
        const tried = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? attempts
        throw new ElbError('throttled', `${action} still throttled after ${tried} attempts`, { cause: error })
      }
      throw toElbError(action, error)
    }
  }
}

function toElbError(action: string, error: unknown): ElbError {
  if (error instanceof ElbError) return error
  const name = (error as { name?: string } | undefined)?.name ?? 'Error'
  const message = error instanceof Error ? error.message : String(error)
  if (name === 'TargetGroupNotFoundException' || name === 'TargetGroupNotFound') {
    return new ElbError('unknown-target-group', `${action}: target group not found: ${message}`, { cause: error })
  }
  return new ElbError('api', `${action} failed: ${name}: ${message}`, { cause: error })
}

/**
 * Follows a paginated list API to its last page. Each page is its own call through `send`
 * (spaced and retried alone), not an SDK paginator, which would bypass the limiter. A token
 * seen twice is an API fault, not a reason to loop forever.
 */
export async function allPages<T>(fetch: (token: string | undefined) => Promise<T>, nextToken: (page: T) => string | undefined): Promise<T[]> {
  const pages: T[] = []
  const seen = new Set<string>()
  let token: string | undefined
  do {
    const page = await fetch(token)
    pages.push(page)
    token = nextToken(page) || undefined
    if (token !== undefined && seen.has(token)) throw new ElbError('api', `pagination returned the token ${token} twice`)
    if (token !== undefined) seen.add(token)
  } while (token !== undefined)
  return pages
}

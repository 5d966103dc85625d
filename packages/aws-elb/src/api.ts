// Every AWS call of the adapter goes through `caller`: Describe calls are spaced by one
// shared limiter (AWS rate-limits Describe* per account), throttling is retried with
// jittered backoff, and SDK errors become ElbError naming the action.
import type { AdapterContext } from '@org/rolling-core'
import { isAbortError, throwIfAborted } from '@org/rolling-core'
import { ElbError } from './errors.js'

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException'])

export interface CallerOptions {
  /** Minimum time between two Describe calls of this adapter. */
  describeIntervalMs: number
  /** Retries of a throttled call before giving up. */
  maxThrottleRetries: number
  /** First backoff after a throttled call; doubles, with full jitter, up to 20 s. */
  throttleBaseMs: number
  random?: () => number
}

export type Send = <T>(action: string, call: (abortSignal: AbortSignal) => Promise<T>, ctx: AdapterContext) => Promise<T>

export function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; code?: string } | undefined
  return THROTTLING.has(e?.name ?? '') || THROTTLING.has(e?.Code ?? '') || THROTTLING.has(e?.code ?? '')
}

export function caller(options: CallerOptions): Send {
  const random = options.random ?? Math.random
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
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(ctx.signal)
      if (action.startsWith('Describe')) await spaced(ctx)
      try {
        return await call(ctx.signal)
      } catch (error) {
        if (ctx.signal.aborted || isAbortError(error)) throw error
        const throttled = isThrottling(error)
        if (!throttled && !isTransient(error)) throw toElbError(action, error)
        if (attempt >= options.maxThrottleRetries) {
          if (!throttled) throw toElbError(action, error)
          throw new ElbError('throttled', `${action} still throttled after ${attempt + 1} attempts`, { cause: error })
        }
        const cap = Math.min(20_000, options.throttleBaseMs * 2 ** attempt)
        ctx.log.debug(`[rolling:elbv2] ${action} ${throttled ? 'throttled' : 'failed with a server error'}, retrying`, { attempt: attempt + 1 })
        await ctx.clock.sleep(cap / 2 + (random() * cap) / 2, ctx.signal)
      }
    }
  }
}

// A 5xx from AWS (InternalFailure, ServiceUnavailable) is worth the same retries.
function isTransient(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode
  return status !== undefined && status >= 500
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
 * (spaced and retried alone), not an SDK paginator, which would retry nothing and bypass
 * the limiter. A token seen twice is an API fault, not a reason to loop forever.
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

// Small helpers around SDK calls: recognising SSM's error names, and the retry policy of
// every call the executor sends. Retrying is the SDK's own (its standard retry strategy in
// its retry middleware, whose sleeps end when the call's abort signal does), configured with
// our attempts and backoff and put on each command, so the client's own retries never stack
// under ours and a client passed in by the user gets the same policy.
import { ConfiguredRetryStrategy, getRetryPlugin } from '@smithy/core/retry'

export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number
  baseMs: number
  maxMs: number
  random: () => number
}

type Strategy = Pick<ConfiguredRetryStrategy, 'acquireInitialRetryToken' | 'refreshRetryTokenForRetry' | 'recordSuccess'>
type Command = { middlewareStack: { use(plugin: ReturnType<typeof getRetryPlugin>): void } }

/**
 * One strategy per executor (its retry quota is shared, as the SDK intends). Only throttling
 * is retried: a throttled call ran nothing, while a SendCommand cut off by a network error
 * may have started the command, and must not start it twice.
 */
export function throttleRetries(policy: RetryPolicy): <C extends Command>(command: C) => C {
  // Full jitter: concurrent callers throttled together must not retry together.
  const backoff = (attempt: number) => policy.random() * Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1))
  const standard = new ConfiguredRetryStrategy(policy.retries + 1, backoff)
  const strategy: Strategy = {
    acquireInitialRetryToken: (scope) => standard.acquireInitialRetryToken(scope),
    refreshRetryTokenForRetry: (token, info) =>
      info.errorType === 'THROTTLING' ? standard.refreshRetryTokenForRetry(token, info) : Promise.reject(info.error),
    recordSuccess: (token) => standard.recordSuccess(token),
  }
  const plugin = getRetryPlugin({ retryStrategy: async () => strategy, maxAttempts: async () => policy.retries + 1 })
  return (command) => {
    command.middlewareStack.use(plugin)
    return command
  }
}

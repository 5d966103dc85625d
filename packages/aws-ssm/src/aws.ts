// Small helpers around SDK calls: recognising SSM's error names, and retrying a call that
// was throttled with capped, fully jittered exponential backoff on the engine's clock.
import type { Clock } from '@org/rolling-core'

const THROTTLING = new Set(['ThrottlingException', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded', 'TooManyUpdates'])

export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined
}

export function isThrottling(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const retryable = (error as { $retryable?: { throttling?: boolean } }).$retryable
  return THROTTLING.has(error.name) || retryable?.throttling === true
}

export interface RetryOptions {
  clock: Clock
  signal?: AbortSignal
  /** Retries after the first attempt. */
  retries: number
  baseMs: number
  maxMs: number
  random: () => number
  /** Told about each throttled attempt, before the sleep. */
  onThrottled?: (attempt: number, delayMs: number) => void
}

/** Runs `fn`, retrying while AWS answers with a throttling error. */
export async function withThrottleRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      if (!isThrottling(error) || attempt > options.retries) throw error
      // Full jitter: concurrent callers throttled together must not retry together.
      const delay = options.random() * Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1))
      options.onThrottled?.(attempt, delay)
      await options.clock.sleep(delay, options.signal)
    }
  }
}

// The real clock, and the abortable sleep every wait in the engine goes through.
import type { Clock, TimerHandle } from './types.js'
import { abortReason, TimeoutError } from './errors.js'

/** Sleeps on `clock` timers; rejects at once when `signal` aborts, removing its listener either way. */
export function sleepOn(clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal))
  return new Promise<void>((resolve, reject) => {
    let handle: TimerHandle
    const onAbort = () => {
      clock.clearTimeout(handle)
      reject(abortReason(signal as AbortSignal))
    }
    handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, Math.max(0, ms))
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    return t
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
}

/**
 * A signal that aborts when `parent` does or when `ms` pass on `clock`
 * (a TimeoutError naming `what`). `dispose` clears the timer and the listener.
 */
export function deadlineSignal(
  clock: Clock,
  ms: number | undefined,
  parent: AbortSignal | undefined,
  what: string,
): { signal: AbortSignal; deadline: number | undefined; dispose: () => void } {
  const controller = new AbortController()
  const onParent = () => controller.abort(parent?.reason)
  if (parent?.aborted) controller.abort(parent.reason)
  else parent?.addEventListener('abort', onParent, { once: true })
  let handle: TimerHandle | undefined
  let deadline: number | undefined
  if (ms !== undefined && Number.isFinite(ms)) {
    deadline = clock.now() + ms
    handle = clock.setTimeout(() => {
      controller.abort(new TimeoutError(`[rolling] ${what} did not finish within ${formatMs(ms)}`))
    }, ms)
  }
  return {
    signal: controller.signal,
    deadline,
    dispose: () => {
      if (handle !== undefined) clock.clearTimeout(handle)
      parent?.removeEventListener('abort', onParent)
    },
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = ms / 1000
  return Number.isInteger(s) ? `${s}s` : `${s.toFixed(1)}s`
}

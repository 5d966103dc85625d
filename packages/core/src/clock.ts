// The real clock, and the abortable sleep every wait in the engine goes through.
import type { Clock, TimerHandle } from './types.js'
import { abortReason } from './errors.js'
import { MAX_TIMER_MS } from './validate.js'

/** Sleeps on `clock` timers; rejects at once when `signal` aborts, removing its listener either way. */
export function sleepOn(clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal))
  return new Promise<void>((resolve, reject) => {
    let handle: TimerHandle
    const onAbort = () => {
      clock.clearTimeout(handle)
      reject(abortReason(signal as AbortSignal))
    }
    handle = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      },
      Math.max(0, ms),
    )
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** A timer of any length: Node clamps a delay above MAX_TIMER_MS to 1 ms, so a longer one is re-armed in steps. */
class LongTimer {
  #handle: ReturnType<typeof setTimeout> | undefined
  constructor(fn: () => void, ms: number) {
    const due = Date.now() + ms
    const arm = (left: number) => {
      this.#handle = setTimeout(
        () => {
          const rest = due - Date.now()
          if (rest > 0) arm(rest)
          else fn()
        },
        Math.min(left, MAX_TIMER_MS),
      )
    }
    arm(ms)
  }
  clear(): void {
    clearTimeout(this.#handle)
  }
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // The engine's own waits are sums (deploy + settle + a last check): they may pass the
  // ceiling that each option alone respects. Those get a long timer, never a 1 ms one.
  setTimeout: (fn, ms) => (ms > MAX_TIMER_MS ? new LongTimer(fn, ms) : setTimeout(fn, ms)),
  clearTimeout: (handle) => {
    if (handle instanceof LongTimer) handle.clear()
    else clearTimeout(handle as ReturnType<typeof setTimeout>)
  },
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = ms / 1000
  return Number.isInteger(s) ? `${s}s` : `${s.toFixed(1)}s`
}

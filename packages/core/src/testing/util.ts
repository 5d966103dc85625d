// Small helpers the in-memory adapters share: a child signal with its own timeout,
// and racing a promise that may never settle (a scripted hang) against a signal.
import type { Clock, Logger, TimerHandle } from '../types.js'
import { abortReason } from '../errors.js'

/** Aborts when `parent` does, or with `onTimeout()` after `ms` on `clock`. Call `dispose` when done. */
export function childSignal(
  parent: AbortSignal,
  clock: Clock,
  ms: number | undefined,
  onTimeout: () => Error,
): { signal: AbortSignal; timedOut: () => boolean; dispose: () => void } {
  const controller = new AbortController()
  let timedOut = false
  const onParent = () => controller.abort(parent.reason)
  if (parent.aborted) controller.abort(parent.reason)
  else parent.addEventListener('abort', onParent, { once: true })
  let handle: TimerHandle | undefined
  if (ms !== undefined && Number.isFinite(ms)) {
    handle = clock.setTimeout(() => {
      timedOut = true
      controller.abort(onTimeout())
    }, ms)
  }
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      if (handle !== undefined) clock.clearTimeout(handle)
      parent.removeEventListener('abort', onParent)
    },
  }
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal))
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/** A logger that drops everything; the default in test contexts. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
}

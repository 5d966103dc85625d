// Small helpers the in-memory adapters share: a child signal with its own timeout,
// and racing a promise that may never settle (a scripted hang) against a signal.
import type { AdapterContext, Clock, Logger, TimerHandle } from '../types.js'
import { abortReason } from '../errors.js'
import { systemClock } from '../clock.js'

/**
 * The signal of one adapter call: aborts when `parent` does, or with `onTimeout()` after
 * `ms` on `clock`. It is created on first read of `signal`: a call answered synchronously
 * (the common case in memory) then costs no AbortController, timer or listener, which
 * matters at 100k hosts, where a listener on a shared signal costs O(listeners) to add.
 */
export function childSignal(
  parent: AbortSignal,
  clock: Clock,
  ms: number | undefined,
  onTimeout: () => Error,
): { readonly signal: AbortSignal; readonly aborted: boolean; timedOut: () => boolean; dispose: () => void } {
  let controller: AbortController | undefined
  let timedOut = false
  let handle: TimerHandle | undefined
  const onParent = () => controller?.abort(parent.reason)
  const create = (): AbortController => {
    const created = new AbortController()
    controller = created
    if (parent.aborted) created.abort(parent.reason)
    else parent.addEventListener('abort', onParent, { once: true })
    if (ms !== undefined && Number.isFinite(ms)) {
      handle = clock.setTimeout(() => {
        timedOut = true
        created.abort(onTimeout())
      }, ms)
    }
    return created
  }
  return {
    get signal() {
      return (controller ?? create()).signal
    },
    get aborted() {
      return controller?.signal.aborted ?? false
    },
    timedOut: () => timedOut,
    dispose: () => {
      if (!controller) return
      if (handle !== undefined) clock.clearTimeout(handle)
      parent.removeEventListener('abort', onParent)
    },
  }
}

export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
export function raceSignal<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
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

/** A context for adapter calls: a live signal, the real clock, a silent logger, then the overrides. */
export function contractContext(base?: Partial<AdapterContext>, extra?: Partial<AdapterContext>): AdapterContext {
  return { signal: new AbortController().signal, clock: systemClock, log: silentLogger, ...base, ...extra }
}

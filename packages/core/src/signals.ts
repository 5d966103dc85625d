// The one way to make a child signal (aborted with its parent, or after a timeout on an
// injected clock) and the one way to race a promise that may never settle against a
// signal. The engine, the in-memory adapters and the adapter packages all use these.
import { setMaxListeners } from 'node:events'
import type { Clock, TimerHandle } from './types.js'
import { abortReason, TimeoutError } from './errors.js'
import { formatMs } from './clock.js'

/** A child signal; `dispose()` clears its timer and unlinks it from the parent. */
export interface ChildSignal {
  readonly signal: AbortSignal
  /** True once the child aborted (created or not). */
  readonly aborted: boolean
  /** Epoch ms on the clock when the child times out, if it has a timeout. */
  readonly deadline: number | undefined
  /** True when the timeout (not the parent) aborted it. */
  timedOut(): boolean
  dispose(): void
}

export interface ChildSignalOptions {
  /** The clock the timeout runs on. Needed only with `timeoutMs`. */
  clock?: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>
  /** Abort after this long (no timeout when absent or not finite). */
  timeoutMs?: number | undefined
  /** The reason a timeout aborts with. @default a TimeoutError naming `what` */
  onTimeout?: () => Error
  /** For the default timeout message: `[rolling] <what> did not finish within 30s`. @default 'the call' */
  what?: string
}

/**
 * A signal aborted when `parent` aborts, or after `timeoutMs` on `clock`. The controller, the
 * timer and the parent listener are created on the first read of `signal`: a call answered at
 * once (the common case in memory) then costs none of them, which matters at 100k hosts, where
 * a listener on a shared signal costs O(listeners) to add.
 */
export function childSignal(parent: AbortSignal | undefined, options: ChildSignalOptions = {}): ChildSignal {
  return new LazyChild(parent, options)
}

// A class, not an object literal with getters: a literal's accessors are defined anew on
// every call (a slow, dictionary-mode object), and adapters make one of these per call.
class LazyChild implements ChildSignal {
  readonly deadline: number | undefined
  #parent: AbortSignal | undefined
  #options: ChildSignalOptions
  #controller: AbortController | undefined
  #handle: TimerHandle | undefined
  #timedOut = false
  #disposed = false
  #onParent: (() => void) | undefined

  constructor(parent: AbortSignal | undefined, options: ChildSignalOptions) {
    const { clock, timeoutMs } = options
    const timed = timeoutMs !== undefined && Number.isFinite(timeoutMs)
    if (timed && !clock) throw new TypeError('childSignal: a timeout needs a clock')
    this.deadline = timed ? (clock as NonNullable<typeof clock>).now() + (timeoutMs as number) : undefined
    this.#parent = parent
    this.#options = options
  }

  get signal(): AbortSignal {
    return (this.#controller ?? this.#create()).signal
  }

  get aborted(): boolean {
    return this.#controller?.signal.aborted ?? false
  }

  timedOut(): boolean {
    return this.#timedOut
  }

  dispose(): void {
    this.#disposed = true
    if (!this.#controller) return
    if (this.#handle !== undefined) this.#options.clock?.clearTimeout(this.#handle)
    if (this.#onParent) this.#parent?.removeEventListener('abort', this.#onParent)
  }

  #create(): AbortController {
    const created = new AbortController()
    this.#controller = created
    if (this.#disposed) return created
    const parent = this.#parent
    if (parent?.aborted) created.abort(parent.reason)
    else if (parent) {
      this.#onParent = () => created.abort(parent.reason)
      parent.addEventListener('abort', this.#onParent, { once: true })
    }
    const { clock, timeoutMs, onTimeout, what } = this.#options
    if (this.deadline !== undefined && clock && !created.signal.aborted) {
      this.#handle = clock.setTimeout(
        () => {
          this.#timedOut = true
          created.abort(onTimeout?.() ?? timeoutError(what ?? 'the call', timeoutMs as number))
        },
        Math.max(0, this.deadline - clock.now()),
      )
    }
    return created
  }
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
export function raceAbort<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
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

function timeoutError(what: string, ms: number): TimeoutError {
  return new TimeoutError(`[rolling] ${what} did not finish within ${formatMs(ms)}`)
}

/** What a scope of the engine hands its steps: a signal, its deadline, and `dispose`. */
export interface Scope {
  signal: AbortSignal
  /** Epoch ms on the clock when the scope times out, if it has a deadline. */
  deadline: number | undefined
  /** Clears the timer and forgets the child; call it when the step is over. */
  dispose(): void
}

/**
 * Child signals of a run's stop and cancel signals. Each child registers in a Set instead of
 * adding its own listener to the parent: Node's AbortSignal walks its listener list on every
 * add and remove, so a batch of 1,000 steps would be quadratic.
 */
export class SignalFanout {
  readonly #children = new Set<AbortController>()
  readonly #parent: AbortSignal

  constructor(parent: AbortSignal) {
    this.#parent = parent
    parent.addEventListener(
      'abort',
      () => {
        for (const child of this.#children) child.abort(parent.reason)
        this.#children.clear()
      },
      { once: true },
    )
  }

  /** A signal aborted with the parent, or after `ms` on `clock` with a TimeoutError naming `what`. */
  child(clock: Clock, ms: number | undefined, what: string): Scope {
    const controller = new AbortController()
    // A shared scope serves a whole batch: each target's adapter call may listen on it.
    setMaxListeners(0, controller.signal)
    if (this.#parent.aborted) {
      controller.abort(this.#parent.reason)
      return { signal: controller.signal, deadline: undefined, dispose() {} }
    }
    this.#children.add(controller)
    let handle: TimerHandle | undefined
    let deadline: number | undefined
    if (ms !== undefined && Number.isFinite(ms)) {
      deadline = clock.now() + ms
      handle = clock.setTimeout(() => controller.abort(timeoutError(what, ms)), ms)
    }
    return {
      signal: controller.signal,
      deadline,
      dispose: () => {
        if (handle !== undefined) clock.clearTimeout(handle)
        this.#children.delete(controller)
      },
    }
  }
}

// Child signals of a run's stop and cancel signals. Each child registers in a Set
// instead of adding its own listener to the parent: Node's AbortSignal walks its
// listener list on every add and remove, so a batch of 1,000 steps would be quadratic.
import { setMaxListeners } from 'node:events'
import type { Clock, TimerHandle } from './types.js'
import { TimeoutError } from './errors.js'
import { formatMs } from './clock.js'

export interface Scope {
  signal: AbortSignal
  /** Epoch ms on the clock when the scope times out, if it has a deadline. */
  deadline: number | undefined
  /** Clears the timer and forgets the child; call it when the step is over. */
  dispose(): void
}

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
      handle = clock.setTimeout(() => controller.abort(new TimeoutError(`[rolling] ${what} did not finish within ${formatMs(ms)}`)), ms)
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

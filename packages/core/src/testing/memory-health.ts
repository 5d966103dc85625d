// An in-memory health check answering from a script (usually the fleet's host
// model). It applies its own timeout, so a scripted hang behaves like a real target
// that never answers: `ok: false` after `timeoutMs`, never a hung rollout.
import type { Clock, Health, HealthCheck, Target } from '../types.js'
import { abortReason, errorMessage, throwIfAborted, TimeoutError } from '../errors.js'
import { formatMs } from '../clock.js'
import { isPromiseLike } from './util.js'
import { type ChildSignal, childSignal, raceAbort } from '../signals.js'

export interface MemoryHealthCheckOptions {
  /**
   * The answer for a target. Throw to simulate a refused connection; return a promise
   * that never settles to simulate a hang (the signal aborts it at the timeout).
   */
  respond: (target: Target, ctx: { signal: AbortSignal; clock: Clock }) => Health | Promise<Health>
  /** @default the clock of each call's context */
  clock?: Clock
  /** Simulated round trip. @default 0 */
  latencyMs?: number
  /** No answer within this long is `ok: false`. @default 5000 */
  timeoutMs?: number
  /** @default 'memory' */
  name?: string
}

export interface MemoryHealthCheck extends HealthCheck {
  /** How many checks each target received. */
  readonly checks: Map<string, number>
}

export function memoryHealthCheck(options: MemoryHealthCheckOptions): MemoryHealthCheck {
  const name = options.name ?? 'memory'
  const latencyMs = options.latencyMs ?? 0
  const timeoutMs = options.timeoutMs ?? 5000
  const checks = new Map<string, number>()

  return {
    name,
    checks,
    async check(target, ctx) {
      throwIfAborted(ctx.signal)
      checks.set(target.id, (checks.get(target.id) ?? 0) + 1)
      const clock = options.clock ?? ctx.clock
      const started = clock.now()
      // The child signal (an AbortController, a timer, a listener) is made only when needed:
      // a latency to sleep through, a script that reads `signal`, or an answer that is a
      // promise (it may hang). A synchronous answer cannot hang and skips all of it; that
      // was most of this adapter's cost per check in the 100k-host benchmark.
      const call = new RespondContext(clock, ctx.signal, timeoutMs, name, target.id)
      try {
        if (latencyMs > 0) await clock.sleep(latencyMs, call.signal)
        let health = options.respond(target, call)
        if (isPromiseLike(health)) health = await raceAbort(health, call.signal)
        // A copy: the script's object may be shared between answers.
        const answer = Object.assign({}, health)
        if (answer.latencyMs === undefined) answer.latencyMs = clock.now() - started
        return answer
      } catch (error) {
        // Only the caller's abort rejects; everything else is an unhealthy answer.
        if (ctx.signal.aborted) throw abortReason(ctx.signal)
        const latency = clock.now() - started
        if (call.timedOut()) return { ok: false, detail: `timeout: no answer within ${formatMs(timeoutMs)}`, latencyMs: latency }
        return { ok: false, detail: errorMessage(error), latencyMs: latency }
      } finally {
        call.dispose()
      }
    },
  }
}

/** What `respond` sees; `signal` makes the call's child signal on first read. A class: see signals.ts. */
class RespondContext {
  #child: ChildSignal | undefined
  constructor(
    readonly clock: Clock,
    private readonly parent: AbortSignal,
    private readonly timeoutMs: number,
    private readonly name: string,
    private readonly targetId: string,
  ) {}

  get signal(): AbortSignal {
    const onTimeout = () => new TimeoutError(`[rolling:${this.name}] health check of ${this.targetId} timed out`)
    this.#child ??= childSignal(this.parent, { clock: this.clock, timeoutMs: this.timeoutMs, onTimeout })
    return this.#child.signal
  }

  timedOut(): boolean {
    return this.#child?.timedOut() ?? false
  }

  dispose(): void {
    this.#child?.dispose()
  }
}

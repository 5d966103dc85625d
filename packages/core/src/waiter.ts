// One waiter for every "poll until": drains, health polls, load balancer state.
// The check says done / retry / fail; delays grow with jitter; one last try is
// made at the deadline; the timeout error says what was last observed. The budget is
// an input (the wait's own limit and the engine's deadline, the sooner wins), and so is
// the wording of the timeout, so an adapter neither re-derives one nor re-wraps the other.
import type { Clock } from './types.js'
import { systemClock } from './clock.js'
import { RollingError, TimeoutError, ValidationError, throwIfAborted, errorMessage } from './errors.js'
import { formatMs } from './clock.js'

export type WaitState<T> =
  | { state: 'done'; value: T }
  /** `delayMs`: the next sleep instead of the grown one (a check that knows its pace). */
  | { state: 'retry'; observed?: unknown; delayMs?: number }
  | { state: 'fail'; reason: string; observed?: unknown }

export interface WaitOptions {
  /** What is awaited, for messages: `target web-1 to drain`. */
  what: string
  /** Give up after this long (`timeoutMs` or `deadline` is required; with both, the sooner wins). */
  timeoutMs?: number
  /** Clock time to give up at: an adapter passes `ctx.deadline` (undefined: no such bound). */
  deadline?: number | undefined
  /** The adapter's name: the messages start `[rolling:<label>]`. @default messages start `[rolling]` */
  label?: string
  /**
   * How the last observation reads in the timeout message (`… waiting for be/s1 to drain: <this>`);
   * it may look something up. @default `; last observed: <JSON>`
   */
  describe?: (observed: unknown) => string | Promise<string>
  /** @default 250 */
  minDelayMs?: number
  /** @default 5000 */
  maxDelayMs?: number
  /** Delay multiplier between polls. @default 1.5 */
  factor?: number
  /** Fraction of each delay randomised (0..1). @default 0.2 */
  jitter?: number
  signal?: AbortSignal
  clock?: Clock
  /** Random source, injectable for deterministic tests. @default Math.random */
  random?: () => number
  /**
   * Clock time at which the awaited state is expected (e.g. a deregistration delay's end): no
   * sleep runs past it, so the first poll after it is not late by a whole grown delay.
   */
  expectAt?: number
}

/** Polls `check` until it says done (returns the value) or fail (throws WAIT_FAILED), or the deadline passes (throws TIMEOUT). */
export async function waitUntil<T>(check: (attempt: number) => Promise<WaitState<T>> | WaitState<T>, options: WaitOptions): Promise<T> {
  // A NaN here would turn the deadline check off and every sleep into 0 ms: a busy loop forever.
  if (options.timeoutMs === undefined && options.deadline === undefined) {
    throw new ValidationError('timeoutMs', `expected timeoutMs or a deadline waiting for ${options.what}, got neither`)
  }
  if (options.deadline !== undefined && !Number.isFinite(options.deadline)) {
    throw new ValidationError('deadline', `expected a finite clock time waiting for ${options.what}, got ${String(options.deadline)}`)
  }
  for (const key of ['timeoutMs', 'minDelayMs', 'maxDelayMs', 'factor', 'jitter'] as const) {
    const value = options[key]
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value !== Number.POSITIVE_INFINITY)) {
      throw new ValidationError(key, `expected a finite number >= 0 waiting for ${options.what}, got ${String(value)}`)
    }
  }
  const clock = options.clock ?? systemClock
  const minDelay = options.minDelayMs ?? 250
  const maxDelay = Math.max(minDelay, options.maxDelayMs ?? 5000)
  const factor = options.factor ?? 1.5
  const jitter = options.jitter ?? 0.2
  const random = options.random ?? Math.random
  const start = clock.now()
  const budgetMs = Math.max(0, Math.min(options.timeoutMs ?? Number.POSITIVE_INFINITY, (options.deadline ?? Number.POSITIVE_INFINITY) - start))
  const deadline = start + budgetMs
  const prefix = options.label === undefined ? '[rolling]' : `[rolling:${options.label}]`
  let delay = minDelay
  let observed: unknown
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(options.signal)
    const result = await check(attempt)
    if (result.state === 'done') return result.value
    if (result.state === 'fail') {
      throw new RollingError('WAIT_FAILED', `${prefix} gave up waiting for ${options.what}: ${result.reason}`, {
        cause: result.observed,
      })
    }
    observed = result.observed
    const left = deadline - clock.now()
    if (left <= 0) {
      const seen = options.describe ? `: ${await options.describe(observed)}` : observed === undefined ? '' : `; last observed: ${describe(observed)}`
      throw new TimeoutError(`${prefix} timed out after ${formatMs(budgetMs)} waiting for ${options.what}${seen}`, observed)
    }
    const jittered = result.delayMs ?? delay * (1 - jitter + 2 * jitter * random())
    const untilExpected = options.expectAt === undefined ? Number.POSITIVE_INFINITY : options.expectAt - clock.now()
    // Never sleep past the deadline: the last try happens at the deadline itself.
    await clock.sleep(Math.min(jittered, left, untilExpected > 0 ? untilExpected : Number.POSITIVE_INFINITY), options.signal)
    delay = Math.min(maxDelay, delay * factor)
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value
  try {
    return JSON.stringify(value)
  } catch {
    return errorMessage(value)
  }
}

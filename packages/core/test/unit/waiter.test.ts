// waitUntil: the one "poll until" of the engine and the adapters.
import { describe, expect, it } from 'vitest'
import { AbortError, RollingError, systemClock, TimeoutError } from '@org/rolling-core'
import { waitUntil, type WaitState } from '@org/rolling-core/adapter'
import { FakeClock } from '@org/rolling-core/testing'

const retry = (observed?: unknown): WaitState<never> => (observed === undefined ? { state: 'retry' } : { state: 'retry', observed })

/** Records the clock time of each attempt of a check that always retries. */
function recorder(clock: FakeClock, observed?: (attempt: number) => unknown) {
  const times: number[] = []
  const start = clock.now()
  return {
    times: () => times.map((t) => t - start),
    gaps: () => times.slice(1).map((t, i) => t - (times[i] as number)),
    check: (attempt: number): WaitState<never> => {
      times.push(clock.now())
      return retry(observed?.(attempt))
    },
  }
}

describe('waitUntil', () => {
  it('returns the value once the check says done', async () => {
    const clock = new FakeClock()
    let calls = 0
    const value = await waitUntil(
      (attempt) => {
        calls++
        return attempt < 3 ? retry() : { state: 'done', value: { drained: true, attempt } }
      },
      { what: 'web-1 to drain', timeoutMs: 60_000, clock },
    )
    expect(value).toEqual({ drained: true, attempt: 3 })
    expect(calls).toBe(3)
    expect(clock.pendingTimers).toBe(0)
  })

  it('accepts an async check, and returns at once when it is done first time', async () => {
    const clock = new FakeClock()
    const start = clock.now()
    const value = await waitUntil(async () => ({ state: 'done', value: 42 }), { what: 'x', timeoutMs: 1_000, clock })
    expect(value).toBe(42)
    expect(clock.now()).toBe(start)
  })

  it('fail rejects with WAIT_FAILED, naming what was awaited and the reason, observed kept as cause', async () => {
    const clock = new FakeClock()
    const observed = { state: 'unused' }
    const error = await waitUntil((attempt) => (attempt < 2 ? retry() : { state: 'fail', reason: 'target was deregistered', observed }), {
      what: 'target web-1 to become healthy',
      timeoutMs: 60_000,
      clock,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RollingError)
    expect(error).toMatchObject({ code: 'WAIT_FAILED' })
    expect((error as Error).message).toContain('target web-1 to become healthy')
    expect((error as Error).message).toContain('target was deregistered')
    expect((error as Error).cause).toBe(observed)
    expect(clock.pendingTimers).toBe(0)
  })

  it('timeout rejects with TIMEOUT, and the message carries the last observed value', async () => {
    const clock = new FakeClock()
    const error = await waitUntil((attempt) => retry({ state: 'draining', connections: 10 - attempt }), {
      what: 'target web-1 to drain',
      timeoutMs: 5_000,
      minDelayMs: 1_000,
      jitter: 0,
      factor: 1,
      clock,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ code: 'TIMEOUT' })
    const message = (error as Error).message
    expect(message).toContain('target web-1 to drain')
    expect(message).toContain('5s')
    // Attempts at 0, 1, 2, 3, 4, 5 s: the last one saw 4 connections.
    expect(message).toContain('{"state":"draining","connections":4}')
    expect((error as TimeoutError).lastObserved).toEqual({ state: 'draining', connections: 4 })
  })

  it('a timeout with nothing observed says so plainly', async () => {
    const clock = new FakeClock()
    const error = await waitUntil(() => retry(), { what: 'nothing', timeoutMs: 1_000, clock }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TIMEOUT' })
    expect((error as Error).message).not.toContain('last observed')
  })

  it('renders a string observation as is', async () => {
    const clock = new FakeClock()
    const error = await waitUntil(() => retry('draining'), { what: 'x', timeoutMs: 1_000, clock }).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/last observed: draining$/)
  })

  it('makes its last try at the deadline itself', async () => {
    const clock = new FakeClock()
    const r = recorder(clock)
    await expect(waitUntil(r.check, { what: 'x', timeoutMs: 1_000, minDelayMs: 250, factor: 1.5, jitter: 0, clock })).rejects.toMatchObject({ code: 'TIMEOUT' })
    // 250, 375, then 562.5 would overshoot: cut to the 375 left.
    expect(r.times()).toEqual([0, 250, 625, 1_000])
  })

  it('takes a deadline (an adapter passes ctx.deadline): the sooner of it and timeoutMs ends the wait', async () => {
    const clock = new FakeClock({ start: 10_000 })
    const r = recorder(clock)
    const early = await waitUntil(r.check, { what: 'x', timeoutMs: 60_000, deadline: 11_000, minDelayMs: 250, factor: 1, jitter: 0, clock }).catch((e: unknown) => e)
    expect(early).toMatchObject({ code: 'TIMEOUT', message: '[rolling] timed out after 1s waiting for x' })
    expect(clock.now()).toBe(11_000)
    // A deadline later than timeoutMs changes nothing; one in the past means a single try.
    await expect(waitUntil(() => retry(), { what: 'x', timeoutMs: 500, deadline: clock.now() + 60_000, clock })).rejects.toMatchObject({ message: expect.stringContaining('after 500ms') })
    const past = recorder(clock)
    await expect(waitUntil(past.check, { what: 'x', deadline: clock.now() - 1, clock })).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect(past.times()).toEqual([0])
    // No bound at all is refused: a wait that never ends is a bug.
    await expect(waitUntil(() => retry(), { what: 'x', deadline: undefined, clock })).rejects.toMatchObject({ code: 'INVALID_OPTION' })
  })

  it('words its errors with the label and describe: no catch-and-rethrow in the adapter', async () => {
    const clock = new FakeClock()
    const error = await waitUntil(() => retry(['be/s1']), {
      what: 'be/s1 to drain',
      timeoutMs: 300,
      label: 'haproxy',
      describe: async (left) => `${(left as string[]).join(', ')}: 2 connection(s) left`,
      clock,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as Error).message).toBe('[rolling:haproxy] timed out after 300ms waiting for be/s1 to drain: be/s1: 2 connection(s) left')
    expect((error as TimeoutError).lastObserved).toEqual(['be/s1'])
    const failed = await waitUntil(() => ({ state: 'fail', reason: 'deregistered' }), { what: 'x', timeoutMs: 1, label: 'elbv2', clock }).catch((e: unknown) => e)
    expect((failed as Error).message).toBe('[rolling:elbv2] gave up waiting for x: deregistered')
  })

  it('makes exactly one try when the timeout is 0', async () => {
    const clock = new FakeClock()
    const r = recorder(clock)
    await expect(waitUntil(r.check, { what: 'x', timeoutMs: 0, clock })).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect(r.times()).toEqual([0])
  })

  it('grows its delays by the factor, up to maxDelayMs', async () => {
    const clock = new FakeClock()
    const r = recorder(clock)
    await expect(waitUntil(r.check, { what: 'x', timeoutMs: 10_000, minDelayMs: 100, maxDelayMs: 1_000, factor: 2, jitter: 0, clock })).rejects.toMatchObject({
      code: 'TIMEOUT',
    })
    const gaps = r.gaps()
    expect(gaps.slice(0, 6)).toEqual([100, 200, 400, 800, 1_000, 1_000])
    expect(r.times().at(-1)).toBe(10_000)
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(1_000)
  })

  it('does not sleep past expectAt: the first try after the expected time is on time, then the delays go on', async () => {
    const clock = new FakeClock()
    const r = recorder(clock)
    const start = clock.now()
    await expect(
      waitUntil(r.check, { what: 'x', timeoutMs: 10_000, minDelayMs: 1_000, maxDelayMs: 4_000, factor: 2, jitter: 0, clock, expectAt: start + 5_500 }),
    ).rejects.toMatchObject({ code: 'TIMEOUT' })
    // 0, 1, 3 s as usual; the 4 s delay would reach 7 s: cut to 5.5 s; then 4 s steps resume.
    expect(r.times().slice(0, 5)).toEqual([0, 1_000, 3_000, 5_500, 9_500])
  })

  it('uses the documented defaults: 250 ms growing by 1.5 up to 5 s', async () => {
    const clock = new FakeClock()
    const r = recorder(clock)
    await expect(waitUntil(r.check, { what: 'x', timeoutMs: 60_000, jitter: 0, clock })).rejects.toMatchObject({ code: 'TIMEOUT' })
    const gaps = r.gaps()
    expect(gaps.slice(0, 4)).toEqual([250, 375, 562.5, 843.75])
    expect(Math.max(...gaps)).toBe(5_000)
  })

  it('keeps each delay within its jitter bounds', async () => {
    const jitter = 0.3
    const base = (i: number) => Math.min(2_000, 100 * 1.5 ** i)
    // The extremes of the random source give the extremes of the bounds.
    for (const [random, scale] of [
      [() => 0, 1 - jitter],
      [() => 0.999999, 1 + jitter],
      [() => 0.5, 1],
    ] as const) {
      const clock = new FakeClock()
      const r = recorder(clock)
      await expect(
        waitUntil(r.check, { what: 'x', timeoutMs: 20_000, minDelayMs: 100, maxDelayMs: 2_000, factor: 1.5, jitter, random, clock }),
      ).rejects.toMatchObject({ code: 'TIMEOUT' })
      const gaps = r.gaps().slice(0, -1) // the last one is cut at the deadline
      for (const [i, gap] of gaps.entries()) expect(gap).toBeCloseTo(base(i) * scale, 1)
    }
    // And any random draw stays within the bounds.
    let seed = 7
    const lcg = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    const clock = new FakeClock()
    const r = recorder(clock)
    await expect(
      waitUntil(r.check, { what: 'x', timeoutMs: 60_000, minDelayMs: 100, maxDelayMs: 2_000, factor: 1.5, jitter, random: lcg, clock }),
    ).rejects.toMatchObject({ code: 'TIMEOUT' })
    const gaps = r.gaps().slice(0, -1)
    expect(gaps.length).toBeGreaterThan(20)
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(base(i) * (1 - jitter) - 1e-6)
      expect(gap).toBeLessThanOrEqual(base(i) * (1 + jitter) + 1e-6)
    })
  })

  it('rejects at once, without a try, when the signal is already aborted', async () => {
    const clock = new FakeClock()
    const controller = new AbortController()
    const reason = new AbortError('[rolling] aborted: operator')
    controller.abort(reason)
    let calls = 0
    await expect(
      waitUntil(
        () => {
          calls++
          return retry()
        },
        { what: 'x', timeoutMs: 1_000, signal: controller.signal, clock },
      ),
    ).rejects.toBe(reason)
    expect(calls).toBe(0)
  })

  it('an abort mid-sleep rejects promptly on the system clock', async () => {
    const controller = new AbortController()
    let calls = 0
    const started = performance.now()
    const waiting = waitUntil(
      () => {
        calls++
        return retry()
      },
      { what: 'a slow thing', timeoutMs: 60_000, minDelayMs: 10_000, signal: controller.signal, clock: systemClock },
    )
    setTimeout(() => controller.abort(new AbortError()), 20)
    const error = await waiting.catch((e: unknown) => e)
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(error).toBeInstanceOf(AbortError)
    expect(error).toMatchObject({ code: 'ABORTED' })
    expect(calls).toBe(1)
  })

  it('an abort mid-sleep leaves no pending timer on the fake clock', async () => {
    const clock = new FakeClock({ autoAdvance: false })
    const controller = new AbortController()
    let calls = 0
    const waiting = waitUntil(
      () => {
        calls++
        return retry()
      },
      { what: 'x', timeoutMs: 60_000, minDelayMs: 10_000, signal: controller.signal, clock },
    )
    const outcome = waiting.then(
      () => 'resolved',
      (e: unknown) => e,
    )
    await clock.advance(0)
    expect(calls).toBe(1)
    expect(clock.pendingTimers).toBe(1)
    controller.abort('operator said stop')
    const error = await outcome
    expect(error).toMatchObject({ code: 'ABORTED' })
    expect((error as Error).message).toContain('operator said stop')
    expect(clock.pendingTimers).toBe(0)
    expect(calls).toBe(1)
  })

  it('a check that throws rejects with its error and stops polling', async () => {
    const clock = new FakeClock()
    const boom = new Error('api down')
    let calls = 0
    await expect(
      waitUntil(
        (attempt) => {
          calls++
          if (attempt === 2) throw boom
          return retry()
        },
        { what: 'x', timeoutMs: 60_000, clock },
      ),
    ).rejects.toBe(boom)
    expect(calls).toBe(2)
    expect(clock.pendingTimers).toBe(0)
  })

  // Regression test, fixed (packages/core/src/waiter.ts, waitUntil, `const deadline = clock.now() + options.timeoutMs`):
  // a NaN timeoutMs (e.g. from `Number(process.env.TIMEOUT)`) makes `left` NaN, so `left <= 0`
  // never holds and `clock.sleep(Math.min(jittered, NaN))` sleeps 0 ms: the waiter polls in a
  // tight loop forever, against "nothing waits forever". Same for minDelayMs/factor NaN
  // (sleep NaN → 0). Fix: at entry, reject a timeoutMs that is not a number >= 0
  // (`!(options.timeoutMs >= 0)`) and a minDelayMs/maxDelayMs/factor/jitter that is NaN or
  // negative, with a TypeError/ValidationError naming the option.
  it('rejects a NaN timeoutMs at once instead of polling forever', async () => {
    const clock = new FakeClock()
    let calls = 0
    const error = await waitUntil(
      () => {
        if (++calls > 50) throw new Error('still polling after 50 tries')
        return retry()
      },
      { what: 'x', timeoutMs: Number.NaN, clock },
    ).catch((e: unknown) => e)
    expect((error as Error).message).not.toContain('still polling')
    expect(calls).toBeLessThanOrEqual(1)
  })
})

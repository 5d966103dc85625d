// Unknown option keys at every level are refused with a suggestion, and no duration above
// Node's timer ceiling passes validation (Node would clamp it to 1 ms and fire at once).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { rollout, systemClock, ValidationError, type RolloutOptions } from '@org/rolling-core'
import { MAX_TIMER_MS, checkMs, closest } from '@org/rolling-core/adapter'
import { setup } from '../engine/_fixture.js'

interface BadCase {
  name: string
  make: (valid: RolloutOptions) => Record<string, unknown>
  option: string
  message: string
}

const TOO_LONG = (option: string, value: number) =>
  `[rolling] invalid option \`${option}\`: ${value} ms is above the largest timer Node supports (2147483647 ms, ~24.8 days)`
const unknown = (option: string, hint: string) => `[rolling] unknown option ${option}: ${hint}`

const cases: BadCase[] = [
  // unknown keys, top level and nested
  { name: 'batchSize', make: (v) => ({ ...v, batchSize: 2 }), option: 'batchSize', message: unknown('batchSize', 'did you mean batch?') },
  { name: 'settel', make: (v) => ({ ...v, settel: { delay: 0 } }), option: 'settel', message: unknown('settel', 'did you mean settle?') },
  { name: 'Service (case)', make: (v) => ({ ...v, Service: 'x' }), option: 'Service', message: unknown('Service', 'did you mean service?') },
  { name: 'minHealty', make: (v) => ({ ...v, minHealty: 1 }), option: 'minHealty', message: unknown('minHealty', 'did you mean minHealthy?') },
  { name: 'onfailure', make: (v) => ({ ...v, onfailure: 'halt' }), option: 'onfailure', message: unknown('onfailure', 'did you mean onFailure?') },
  {
    name: 'verbose (nothing close)',
    make: (v) => ({ ...v, verbose: true }),
    option: 'verbose',
    message: unknown(
      'verbose',
      'the options are service, loadBalancer, artifacts, executor, deploy, healthCheck, version, batch, minHealthy, settle, drain, onFailure, maxStopped, redeploy, verify, timeouts, hooks, signal, clock, logger, stateDir, journal, lock, runId, gates, bake, pause, control, zones, maxFailures, deadline',
    ),
  },
  {
    name: 'settle.delya',
    make: (v) => ({ ...v, settle: { delya: 0 } }),
    option: 'settle.delya',
    message: unknown('settle.delya', 'did you mean settle.delay?'),
  },
  {
    name: 'settle.intervalMs',
    make: (v) => ({ ...v, settle: { intervalMs: 500 } }),
    option: 'settle.intervalMs',
    message: unknown('settle.intervalMs', 'did you mean settle.interval?'),
  },
  {
    name: 'drain.timout',
    make: (v) => ({ ...v, drain: { timout: 1000 } }),
    option: 'drain.timout',
    message: unknown('drain.timout', 'did you mean drain.timeout?'),
  },
  {
    name: 'drain.mode',
    make: (v) => ({ ...v, drain: { mode: 'halt' } }),
    option: 'drain.mode',
    message: unknown('drain.mode', 'the options of drain are timeout, onTimeout'),
  },
  {
    name: 'timeouts.deplyo',
    make: (v) => ({ ...v, timeouts: { deplyo: 1000 } }),
    option: 'timeouts.deplyo',
    message: unknown('timeouts.deplyo', 'did you mean timeouts.deploy?'),
  },
  {
    name: 'timeouts.drain',
    make: (v) => ({ ...v, timeouts: { drain: 1000 } }),
    option: 'timeouts.drain',
    message: unknown('timeouts.drain', 'the options of timeouts are precheck, detach, deploy, attach, stop, abortGrace, gate'),
  },
  {
    name: 'timeouts.constructor (inherited from Object.prototype)',
    make: (v) => ({ ...v, timeouts: { constructor: 1000 } }),
    option: 'timeouts.constructor',
    message: unknown('timeouts.constructor', 'the options of timeouts are precheck, detach, deploy, attach, stop, abortGrace, gate'),
  },
  {
    name: 'hooks.afterBatchs',
    make: (v) => ({ ...v, hooks: { afterBatchs: () => {} } }),
    option: 'hooks.afterBatchs',
    message: unknown('hooks.afterBatchs', 'did you mean hooks.afterBatch?'),
  },
  {
    name: 'hooks.onEverything',
    make: (v) => ({ ...v, hooks: { onEverything: () => {} } }),
    option: 'hooks.onEverything',
    message: unknown('hooks.onEverything', 'the options of hooks are beforeBatch, afterBatch, beforeTarget, afterDeploy, beforeAttach, beforeVerify'),
  },
  // durations above the timer ceiling
  { name: 'timeouts.deploy 3e9', make: (v) => ({ ...v, timeouts: { deploy: 3e9 } }), option: 'timeouts.deploy', message: TOO_LONG('timeouts.deploy', 3e9) },
  {
    name: 'timeouts.precheck 2^31',
    make: (v) => ({ ...v, timeouts: { precheck: 2 ** 31 } }),
    option: 'timeouts.precheck',
    message: TOO_LONG('timeouts.precheck', 2 ** 31),
  },
  { name: 'timeouts.stop 1e12', make: (v) => ({ ...v, timeouts: { stop: 1e12 } }), option: 'timeouts.stop', message: TOO_LONG('timeouts.stop', 1e12) },
  { name: 'settle.delay 3e9', make: (v) => ({ ...v, settle: { delay: 3e9 } }), option: 'settle.delay', message: TOO_LONG('settle.delay', 3e9) },
  { name: 'settle.interval 3e9', make: (v) => ({ ...v, settle: { interval: 3e9 } }), option: 'settle.interval', message: TOO_LONG('settle.interval', 3e9) },
  {
    name: 'settle.deadline 3e9',
    make: (v) => ({ ...v, settle: { interval: 500, deadline: 3e9 } }),
    option: 'settle.deadline',
    message: TOO_LONG('settle.deadline', 3e9),
  },
  { name: 'settle.hold 3e9', make: (v) => ({ ...v, settle: { hold: 3e9 } }), option: 'settle.hold', message: TOO_LONG('settle.hold', 3e9) },
  { name: 'drain.timeout 3e9', make: (v) => ({ ...v, drain: { timeout: 3e9 } }), option: 'drain.timeout', message: TOO_LONG('drain.timeout', 3e9) },
  // stateDir not a folder path
  {
    name: 'stateDir 42',
    make: (v) => ({ ...v, stateDir: 42 }),
    option: 'stateDir',
    message: '[rolling] invalid option `stateDir`: expected a folder path, got 42',
  },
]

describe('unknown options and durations above the timer ceiling', () => {
  it.each(cases.map((c) => [c.name, c] as const))('rejects %s', async (_name, { make, option, message }) => {
    const fx = setup({ size: 2 })
    let thrown: unknown
    try {
      rollout(make(fx.options()) as unknown as RolloutOptions)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ValidationError)
    expect(thrown).toMatchObject({ code: 'INVALID_OPTION', option, message })
    expect(fx.fleet.lb.calls).toEqual([])
    expect(await fx.journal.read()).toEqual([])
  })

  it('accepts the ceiling itself', async () => {
    const fx = setup({ size: 1 })
    const run = rollout(fx.options({ timeouts: { deploy: MAX_TIMER_MS }, settle: { delay: 0, interval: 10, deadline: MAX_TIMER_MS, hold: MAX_TIMER_MS - 1 } }))
    run.cancel('test over')
    await run.result.catch(() => {})
  })

  it('checkMs is the one check adapters use, with the same wording', () => {
    expect(checkMs('pollMs', 250, { min: 1 })).toBe(250)
    expect(() => checkMs('pollMs', 3e9)).toThrow(TOO_LONG('pollMs', 3e9))
    expect(() => checkMs('pollMs', 0, { min: 1 })).toThrow('[rolling] invalid option `pollMs`: expected a finite number of milliseconds >= 1, got 0')
    expect(() => checkMs('pollMs', 1.5, { integer: true })).toThrow('expected a finite whole number of milliseconds >= 0, got 1.5')
    expect(closest('batchSize', ['batch', 'settle'])).toBe('batch')
    expect(closest('zzz', ['batch', 'settle'])).toBeUndefined()
  })
})

describe('systemClock with a wait above the ceiling (the engine sums deploy + settle + a check)', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('waits the whole time instead of firing after 1 ms', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const fired: number[] = []
    const started = Date.now()
    systemClock.setTimeout(() => fired.push(Date.now() - started), 3e9)
    await vi.advanceTimersByTimeAsync(10)
    expect(fired).toEqual([])
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS)
    expect(fired).toEqual([])
    await vi.advanceTimersByTimeAsync(3e9 - MAX_TIMER_MS - 10)
    expect(fired).toEqual([3e9])
  })

  it('clears a long timer, and sleeps the whole time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    let fired = false
    const handle = systemClock.setTimeout(() => {
      fired = true
    }, 5e9)
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 5)
    systemClock.clearTimeout(handle)
    await vi.advanceTimersByTimeAsync(5e9)
    expect(fired).toBe(false)
    let slept = false
    void systemClock.sleep(4e9).then(() => {
      slept = true
    })
    await vi.advanceTimersByTimeAsync(4e9 - 1)
    expect(slept).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(slept).toBe(true)
  })
})

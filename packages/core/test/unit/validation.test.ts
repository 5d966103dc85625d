// rollout() validates its options synchronously, before touching anything: a bad
// input throws a ValidationError naming the option and rendering the bad value.
import { describe, expect, it } from 'vitest'
import { rollout, ValidationError, type RolloutOptions } from '@org/rolling-core'
import { setup } from '../engine/_fixture.js'

type Fixture = ReturnType<typeof setup>

interface BadCase {
  name: string
  /** Options built from valid ones, with exactly one thing wrong. */
  make: (valid: RolloutOptions, fx: Fixture) => Record<string, unknown>
  option: string
  /** How the message renders the bad value. */
  shows: string
}

/** The valid options without `key`. */
const without = (valid: RolloutOptions, key: keyof RolloutOptions): Record<string, unknown> => {
  const { [key]: _dropped, ...rest } = valid
  return rest
}

const cases: BadCase[] = [
  // batch
  { name: 'negative batch', make: (v) => ({ ...v, batch: -1 }), option: 'batch', shows: '-1' },
  { name: 'batch 0', make: (v) => ({ ...v, batch: 0 }), option: 'batch', shows: '0' },
  { name: 'fractional batch', make: (v) => ({ ...v, batch: 1.5 }), option: 'batch', shows: '1.5' },
  { name: 'NaN batch', make: (v) => ({ ...v, batch: Number.NaN }), option: 'batch', shows: 'NaN' },
  { name: 'Infinity batch', make: (v) => ({ ...v, batch: Number.POSITIVE_INFINITY }), option: 'batch', shows: 'Infinity' },
  { name: "batch '0%'", make: (v) => ({ ...v, batch: '0%' }), option: 'batch', shows: "'0%'" },
  { name: "batch '150%'", make: (v) => ({ ...v, batch: '150%' }), option: 'batch', shows: "'150%'" },
  { name: "batch 'abc%'", make: (v) => ({ ...v, batch: 'abc%' }), option: 'batch', shows: "'abc%'" },
  { name: "batch '25' (no %)", make: (v) => ({ ...v, batch: '25' }), option: 'batch', shows: "'25'" },
  { name: 'batch as an object', make: (v) => ({ ...v, batch: { size: 2 } }), option: 'batch', shows: '{"size":2}' },
  { name: 'empty schedule', make: (v) => ({ ...v, batch: [] }), option: 'batch', shows: '[]' },
  { name: 'schedule with a bad entry', make: (v) => ({ ...v, batch: [1, '0%'] }), option: 'batch[1]', shows: "'0%'" },
  { name: 'schedule with a negative first entry', make: (v) => ({ ...v, batch: [-2, 1] }), option: 'batch[0]', shows: '-2' },
  // minHealthy
  { name: 'minHealthy -1', make: (v) => ({ ...v, minHealthy: -1 }), option: 'minHealthy', shows: '-1' },
  { name: "minHealthy '120%'", make: (v) => ({ ...v, minHealthy: '120%' }), option: 'minHealthy', shows: "'120%'" },
  { name: 'minHealthy 0.5', make: (v) => ({ ...v, minHealthy: 0.5 }), option: 'minHealthy', shows: '0.5' },
  // onFailure
  { name: "onFailure 'retry'", make: (v) => ({ ...v, onFailure: 'retry' }), option: 'onFailure', shows: "'retry'" },
  {
    name: "onFailure 'rollback' with a recipe lacking rollback",
    make: (v, fx) => ({ ...v, deploy: { deploy: fx.fleet.recipe.deploy }, onFailure: 'rollback' }),
    option: 'onFailure',
    shows: "'rollback'",
  },
  {
    name: "onFailure 'rollback' with a deploy function",
    make: (v) => ({ ...v, deploy: async () => {}, onFailure: 'rollback' }),
    option: 'onFailure',
    shows: "'rollback'",
  },
  // settle
  { name: 'settle.delay NaN', make: (v) => ({ ...v, settle: { delay: Number.NaN } }), option: 'settle.delay', shows: 'NaN' },
  { name: 'settle.delay -5', make: (v) => ({ ...v, settle: { delay: -5 } }), option: 'settle.delay', shows: '-5' },
  { name: "settle.delay '60s'", make: (v) => ({ ...v, settle: { delay: '60s' } }), option: 'settle.delay', shows: "'60s'" },
  { name: 'settle.interval 0', make: (v) => ({ ...v, settle: { interval: 0 } }), option: 'settle.interval', shows: '0' },
  {
    name: 'settle.successes 0',
    make: (v) => ({ ...v, settle: { interval: 500, successes: 0 } }),
    option: 'settle.successes',
    shows: '0',
  },
  {
    name: 'settle.deadline without interval',
    make: (v) => ({ ...v, settle: { deadline: 30_000 } }),
    option: 'settle.interval',
    shows: 'undefined',
  },
  {
    name: 'settle.deadline before settle.delay',
    make: (v) => ({ ...v, settle: { delay: 10_000, interval: 500, deadline: 5_000 } }),
    option: 'settle.deadline',
    shows: '5000',
  },
  { name: 'settle not an object', make: (v) => ({ ...v, settle: 60_000 }), option: 'settle', shows: '60000' },
  // maxStopped
  { name: 'maxStopped -1', make: (v) => ({ ...v, maxStopped: -1 }), option: 'maxStopped', shows: '-1' },
  { name: 'maxStopped 2.5', make: (v) => ({ ...v, maxStopped: 2.5 }), option: 'maxStopped', shows: '2.5' },
  // adapters
  { name: 'missing loadBalancer', make: (v) => without(v, 'loadBalancer'), option: 'loadBalancer', shows: 'undefined' },
  {
    name: 'loadBalancer without attach()',
    make: (v, fx) => ({ ...v, loadBalancer: { name: 'half', discover: fx.fleet.lb.discover, detach: fx.fleet.lb.detach } }),
    option: 'loadBalancer.attach',
    shows: 'undefined',
  },
  { name: 'missing artifacts', make: (v) => without(v, 'artifacts'), option: 'artifacts', shows: 'undefined' },
  { name: 'missing executor', make: (v) => without(v, 'executor'), option: 'executor', shows: 'undefined' },
  {
    name: 'healthCheck without check()',
    make: (v) => ({ ...v, healthCheck: { name: 'nope', check: 'GET /_status' } }),
    option: 'healthCheck.check',
    shows: "'GET /_status'",
  },
  { name: 'missing deploy', make: (v) => without(v, 'deploy'), option: 'deploy', shows: 'undefined' },
  { name: 'deploy as a string', make: (v) => ({ ...v, deploy: './deploy.sh' }), option: 'deploy', shows: "'./deploy.sh'" },
  { name: 'deploy recipe without deploy()', make: (v) => ({ ...v, deploy: { stop: 1 } }), option: 'deploy', shows: '{"stop":1}' },
  // service, version
  { name: "service '../etc'", make: (v) => ({ ...v, service: '../etc' }), option: 'service', shows: "'../etc'" },
  { name: "service ''", make: (v) => ({ ...v, service: '' }), option: 'service', shows: "''" },
  { name: 'service with a newline', make: (v) => ({ ...v, service: 'app\nx' }), option: 'service', shows: "'app\nx'" },
  { name: 'missing service', make: (v) => without(v, 'service'), option: 'service', shows: 'undefined' },
  { name: "version ''", make: (v) => ({ ...v, version: '' }), option: 'version', shows: "''" },
  { name: 'version as a number', make: (v) => ({ ...v, version: 2 }), option: 'version', shows: '2' },
  // timeouts
  { name: 'timeouts.detach 0', make: (v) => ({ ...v, timeouts: { detach: 0 } }), option: 'timeouts.detach', shows: '0' },
  { name: 'timeouts.deploy NaN', make: (v) => ({ ...v, timeouts: { deploy: Number.NaN } }), option: 'timeouts.deploy', shows: 'NaN' },
  // hooks
  { name: 'hook not a function', make: (v) => ({ ...v, hooks: { beforeBatch: 'approve' } }), option: 'hooks.beforeBatch', shows: "'approve'" },
  // the rest
  { name: 'signal not an AbortSignal', make: (v) => ({ ...v, signal: { aborted: false } }), option: 'signal', shows: '{"aborted":false}' },
  { name: "verify 'yes'", make: (v) => ({ ...v, verify: 'yes' }), option: 'verify', shows: "'yes'" },
  { name: 'clock without sleep()', make: (v) => ({ ...v, clock: { now: () => 0 } }), option: 'clock.sleep', shows: 'undefined' },
  { name: "stateDir ''", make: (v) => ({ ...v, stateDir: '' }), option: 'stateDir', shows: "''" },
  { name: "runId 'a/b'", make: (v) => ({ ...v, runId: 'a/b' }), option: 'runId', shows: "'a/b'" },
]

/** Freezes the option tree, leaving the adapters (whose own state records calls) alone. */
function deepFreeze<T>(value: T, skip: ReadonlySet<unknown>): T {
  if (typeof value !== 'object' || value === null || skip.has(value) || Object.isFrozen(value)) return value
  if (value instanceof AbortSignal) return value
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key], skip)
  return Object.freeze(value)
}

function adaptersOf(fx: Fixture): Set<unknown> {
  const { fleet } = fx
  return new Set<unknown>([fleet.lb, fleet.artifacts, fleet.executor, fleet.health, fx.clock, fx.journal, fx.lock])
}

/** Lets anything that was started have a go, so "nothing happened" means something. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 5))

describe('rollout() option validation', () => {
  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20)
  })

  it.each(cases.map((c) => [c.name, c] as const))('rejects %s', async (_name, { make, option, shows }) => {
    const fx = setup({ size: 3 })
    const options = deepFreeze(make(fx.options(), fx), adaptersOf(fx))
    let thrown: unknown
    try {
      rollout(options as unknown as RolloutOptions)
    } catch (error) {
      thrown = error
    }
    // Thrown synchronously, by rollout() itself, not through the result.
    expect(thrown).toBeInstanceOf(ValidationError)
    const error = thrown as ValidationError
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.option).toBe(option)
    expect(error.message).toContain(`\`${option}\``)
    expect(error.message).toContain(shows)
    // Nothing was touched.
    await settle()
    expect(fx.fleet.lb.calls).toEqual([])
    expect(fx.fleet.executor.commands).toEqual([])
    expect(await fx.journal.read()).toEqual([])
    expect(fx.fleet.versions()).toEqual(new Map([['v1', 3]]))
  })

  it('rejects options that are not an object', () => {
    for (const bad of [undefined, null, 'checkout', 42]) {
      expect(() => rollout(bad as unknown as RolloutOptions)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'options' }))
    }
  })

  it('accepts a deep-frozen valid options object and never mutates it', async () => {
    const fx = setup({ size: 3 })
    const options = fx.options({
      batch: [1, '50%'],
      minHealthy: '30%',
      settle: { delay: 1_000, interval: 500, deadline: 30_000, successes: 2 },
      timeouts: { detach: 60_000 },
      hooks: { beforeBatch: () => {} },
      onFailure: 'halt',
      maxStopped: 1,
      version: 'v2',
    })
    // The option data (not the adapters, whose state records what they did).
    const data = () => {
      const { loadBalancer, artifacts, executor, healthCheck, deploy, clock, journal, lock, hooks, ...rest } = options
      return { ...rest, hooks: Object.keys(hooks ?? {}), deploy: Object.keys(deploy) }
    }
    const before = structuredClone(data())
    const keys = Object.keys(options).sort()
    deepFreeze(options, adaptersOf(fx))
    const result = await rollout(options)
    expect(result.status).toBe('succeeded')
    expect(data()).toEqual(before)
    expect(Object.keys(options).sort()).toEqual(keys)
    expect(options.settle).toEqual({ delay: 1_000, interval: 500, deadline: 30_000, successes: 2 })
    expect(options.timeouts).toEqual({ detach: 60_000 })
  })
  // Unknown keys (timeouts.constructor included) and durations above the timer ceiling: validation-keys.test.ts.
})

// The control options are validated at the entry with the rest: each bad value throws a
// ValidationError naming the option and showing the value; good ones pass and resolve.
import { describe, expect, it } from 'vitest'
import {
  deadlineMs,
  failureBudget,
  parseDuration,
  pausesAfter,
  resolvePause,
  resolveVerify,
  rollout,
  ValidationError,
  type RolloutOptions,
} from '@org/rolling-core'
import { setup } from '../engine/_fixture.js'

const gate = { name: 'g', check: async () => ({ state: 'pass' as const, detail: 'ok' }) }

const bad: [string, Record<string, unknown>, string, string][] = [
  ['gates not a list', { gates: gate }, 'gates', 'expected a list of gates'],
  ['a gate without check', { gates: [{ name: 'x' }] }, 'gates[0]', 'expected a gate with check(ctx)'],
  ['a gate without a name', { gates: [{ check: gate.check }] }, 'gates[0].name', 'got undefined'],
  ['a gate with a negative bake', { gates: [{ ...gate, bake: -1 }] }, 'gates[0].bake', 'got -1'],
  ['bake NaN', { bake: Number.NaN }, 'bake', 'got NaN'],
  ['bake above the timer ceiling', { bake: 2 ** 31 }, 'bake', '2147483648 ms is above the largest timer'],
  ['pause as a string', { pause: 'sometimes' }, 'pause', "got 'sometimes'"],
  ['pause after nothing', { pause: { after: [] } }, 'pause.after', 'got []'],
  ['pause after batch 0', { pause: { after: [0] } }, 'pause.after[0]', 'a batch number >= 1'],
  ['pause timeout 0', { pause: { after: [1], timeout: 0 } }, 'pause.timeout', 'got 0'],
  ['pause onTimeout', { pause: { after: [1], onTimeout: 'continue' } }, 'pause.onTimeout', "got 'continue'"],
  ['control without receive', { control: { send() {} } }, 'control', 'send() and receive()'],
  ['zones without a label', { zones: {} }, 'zones.label', 'got undefined'],
  ['zones maxPerZone 0', { zones: { label: 'zone', maxPerZone: 0 } }, 'zones.maxPerZone', 'got 0'],
  ['zones minHealthy 150%', { zones: { label: 'zone', minHealthy: '150%' } }, 'zones.minHealthy', "got '150%'"],
  ['maxFailures -1', { maxFailures: -1 }, 'maxFailures', 'got -1'],
  ['deadline in weeks', { deadline: '2w' }, 'deadline', "got '2w'"],
  ['deadline 0', { deadline: 0 }, 'deadline', 'got 0'],
  ['deadline past the timer ceiling', { deadline: '1000h' }, 'deadline', '3600000000 ms is above the largest timer'],
  ['an unknown pause key', { pause: { after: [1], timeot: 5 } }, 'pause.timeot', 'did you mean pause.timeout?'],
  ['an unknown zones key', { zones: { label: 'zone', maxPerzone: 1 } }, 'zones.maxPerzone', 'did you mean zones.maxPerZone?'],
  ['verify onMismatch', { verify: { onMismatch: 'ignore' } }, 'verify.onMismatch', "got 'ignore'"],
  ['verify as a string', { verify: 'yes' }, 'verify', "got 'yes'"],
]

describe('control options at the entry', () => {
  const fx = setup({ size: 3 })
  for (const [name, extra, option, shows] of bad) {
    it(`refuses ${name}`, () => {
      let error: unknown
      try {
        rollout(fx.options(extra as Partial<RolloutOptions>))
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).option).toBe(option)
      expect((error as Error).message).toContain(shows)
    })
  }

  it('accepts every good shape without starting anything it should not', async () => {
    const good: Partial<RolloutOptions>[] = [
      { gates: [gate], bake: 0 },
      { pause: 'every-batch' },
      { pause: { after: 'every-batch', timeout: 1000, onTimeout: 'approve' } },
      { zones: { label: 'zone', maxPerZone: '50%', minHealthy: 1 } },
      { maxFailures: '10%' },
      { deadline: '45m' },
      { verify: { onMismatch: 'deploy' } },
      { verify: false },
    ]
    for (const extra of good) expect(() => fx.options(extra) && validate(fx.options(extra))).not.toThrow()
  })
})

import { validateOptions } from '@org/rolling-core'
const validate = (o: RolloutOptions) => validateOptions(o)

describe('resolving', () => {
  it('parses durations', () => {
    expect(parseDuration('45m')).toBe(2_700_000)
    expect(parseDuration('2h')).toBe(7_200_000)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(parseDuration('250')).toBe(250)
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('soon')).toBeUndefined()
    expect(deadlineMs('90s')).toBe(90_000)
    expect(deadlineMs(5000)).toBe(5000)
  })

  it('pause: 1-based batch numbers, never after the last batch', () => {
    const p = resolvePause({ after: [1, 3] })
    expect(p).toMatchObject({ timeout: 86_400_000, onTimeout: 'abort' })
    expect([0, 1, 2, 3].map((i) => pausesAfter(p, i, 4))).toEqual([true, false, true, false])
    expect([0, 1, 2].map((i) => pausesAfter(resolvePause('every-batch'), i, 3))).toEqual([true, true, false])
    expect(pausesAfter(resolvePause(undefined), 0, 3)).toBe(false)
  })

  it('verify and the failure budget', () => {
    expect(resolveVerify(undefined)).toEqual({ run: true, onMismatch: 'stop' })
    expect(resolveVerify(false)).toEqual({ run: false, onMismatch: 'stop' })
    expect(resolveVerify({ onMismatch: 'deploy' })).toEqual({ run: true, onMismatch: 'deploy' })
    expect(failureBudget(undefined, 10)).toBe(0)
    expect(failureBudget(2, 10)).toBe(2)
    expect(failureBudget('10%', 25)).toBe(3)
  })
})

// The gate runner on the fake clock: bake, wait, fail, timeout, a throwing gate, abort.
import { describe, expect, it } from 'vitest'
import { runGate, runGates, gateFailure, type Gate, type GateState } from '@org/rolling-core'
import { FakeClock, silentLogger } from '@org/rolling-core/testing'

const artifact = { service: 'checkout', version: 'v2', builtAt: new Date(0).toISOString(), sha256: '0'.repeat(64), size: 1 }

function scripted(clock: FakeClock, states: (at: number) => GateState, name = 'scripted') {
  const start = clock.now()
  const seen: number[] = []
  const gate: Gate = {
    name,
    interval: 1000,
    async check() {
      const at = clock.now() - start
      seen.push(at)
      const state = states(at)
      return { state, detail: `${state} at ${at}` }
    },
  }
  return { gate, seen }
}

const ctx = (clock: FakeClock) => ({ service: 's', runId: 'r', artifact, batch: 0, total: 3, final: false, clock, log: silentLogger })
const live = () => new AbortController().signal

describe('runGate', () => {
  it('passes at once without a bake', async () => {
    const clock = new FakeClock()
    const { gate, seen } = scripted(clock, () => 'pass')
    const outcome = await runGate(gate, ctx(clock), { bake: 0, timeoutMs: 60_000, signal: live() })
    expect(outcome).toMatchObject({ gate: 'scripted', passed: true, checks: 1, durationMs: 0 })
    expect(seen).toEqual([0])
  })

  it('keeps checking for the whole bake, the last check at its end', async () => {
    const clock = new FakeClock()
    const { gate, seen } = scripted(clock, () => 'pass')
    const outcome = await runGate(gate, ctx(clock), { bake: 3500, timeoutMs: 60_000, signal: live() })
    expect(outcome.passed).toBe(true)
    expect(seen).toEqual([0, 1000, 2000, 3000, 3500])
    expect(outcome.durationMs).toBe(3500)
  })

  it('fails when the gate turns bad during the bake', async () => {
    const clock = new FakeClock()
    const { gate } = scripted(clock, (at) => (at >= 2000 ? 'fail' : 'pass'))
    const outcome = await runGate(gate, ctx(clock), { bake: 10_000, timeoutMs: 60_000, signal: live() })
    expect(outcome).toMatchObject({ passed: false, detail: 'fail at 2000', durationMs: 2000 })
  })

  it('a wait restarts the bake', async () => {
    const clock = new FakeClock()
    const { gate } = scripted(clock, (at) => (at === 2000 ? 'wait' : 'pass'))
    const outcome = await runGate(gate, ctx(clock), { bake: 2500, timeoutMs: 60_000, signal: live() })
    expect(outcome.passed).toBe(true)
    // Passing from 3000 on, so the bake ends at 5500.
    expect(outcome.durationMs).toBe(5500)
  })

  it('fails at the deadline when it never decides, saying what it last saw', async () => {
    const clock = new FakeClock()
    const { gate } = scripted(clock, () => 'wait')
    const outcome = await runGate(gate, ctx(clock), { bake: 0, timeoutMs: 10_000, signal: live() })
    expect(outcome.passed).toBe(false)
    expect(outcome.detail).toBe('still undecided after 10s: wait at 10000')
  })

  it('a gate that throws fails with its message; a malformed verdict fails too', async () => {
    const clock = new FakeClock()
    const throwing: Gate = { name: 'boom', check: async () => Promise.reject(new Error('connection refused')) }
    const out1 = await runGate(throwing, ctx(clock), { bake: 0, timeoutMs: 10_000, signal: live() })
    expect(out1).toMatchObject({ passed: false, detail: 'gate boom could not be checked: connection refused' })
    const malformed = { name: 'odd', check: async () => ({ state: 'maybe' }) } as unknown as Gate
    const out2 = await runGate(malformed, ctx(clock), { bake: 0, timeoutMs: 10_000, signal: live() })
    expect(out2.detail).toMatch(/gate odd answered \{"state":"maybe"\}/)
  })

  it('per-gate bake and timeout win over the rollout default', async () => {
    const clock = new FakeClock()
    const { gate } = scripted(clock, () => 'pass')
    const outcome = await runGate({ ...gate, bake: 1000 }, ctx(clock), { bake: 60_000, timeoutMs: 60_000, signal: live() })
    expect(outcome.durationMs).toBe(1000)
  })

  it('an abort rejects at once, mid-bake', async () => {
    const clock = new FakeClock({ autoAdvance: false })
    const { gate } = scripted(clock, () => 'pass')
    const controller = new AbortController()
    const running = runGate(gate, ctx(clock), { bake: 60_000, timeoutMs: 60_000, signal: controller.signal })
    await clock.advance(5000)
    controller.abort(new Error('stop'))
    await expect(running).rejects.toThrow('stop')
  })

  it('runGates stops at the first failing gate and the reason names it', async () => {
    const clock = new FakeClock()
    const a = scripted(clock, () => 'pass', 'a')
    const b = scripted(clock, () => 'fail', 'b')
    const c = scripted(clock, () => 'pass', 'c')
    const outcomes = await runGates([a.gate, b.gate, c.gate], ctx(clock), { bake: 0, timeoutMs: 1000, signal: live() })
    expect(outcomes.map((o) => [o.gate, o.passed])).toEqual([
      ['a', true],
      ['b', false],
    ])
    expect(c.seen).toEqual([])
    expect(gateFailure(outcomes[1] as never, 0, 3)).toBe('gate b failed after batch 1 of 3: fail at 0')
    expect(gateFailure(outcomes[1] as never, 3, 3)).toBe('gate b failed after the last batch: fail at 0')
  })
})

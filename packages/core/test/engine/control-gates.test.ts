// Gates between batches, on the fake clock: checked after each batch is attached and before
// the next detaches, and once at the end; a bake keeps watching; a failure halts naming the
// gate (or rolls the last batch back); `wait` keeps polling until the gate's deadline.
import { describe, expect, it } from 'vitest'
import type { Gate, GateContext, GateVerdict } from '@org/rolling-core'
import { readJournal } from '@org/rolling-core'
import { outcomes, setup } from './_fixture.js'

/** A gate whose verdict the test decides, recording when it was asked and what it saw. */
function scripted(name: string, verdict: (ctx: GateContext) => GateVerdict, extra: Partial<Gate> = {}) {
  const asked: { batch: number; final: boolean; at: number }[] = []
  const gate: Gate & { asked: typeof asked } = {
    name,
    interval: 5_000,
    asked,
    async check(ctx) {
      asked.push({ batch: ctx.batch, final: ctx.final, at: ctx.clock.now() })
      return verdict(ctx)
    },
    ...extra,
  }
  return gate
}

describe('gates', () => {
  it('are checked after each batch is back in service and once at the end, baking on the engine clock', async () => {
    const fx = setup({ size: 3 })
    const gate = scripted('errors', () => ({ state: 'pass', detail: '0.1% 5xx' }))
    // Every check sees the whole fleet in service: the batch was attached, the next not yet detached.
    const inServiceAtChecks: number[] = []
    const check = gate.check.bind(gate)
    gate.check = async (ctx) => {
      inServiceAtChecks.push(fx.fleet.targets.filter((t) => fx.fleet.lb.inService(t.id)).length)
      return check(ctx)
    }
    const run = fx.run({ gates: [gate], bake: 30_000 })
    const ends: { batch: number; final: boolean; passed: boolean }[] = []
    run.on('gate:end', (e) => ends.push({ batch: e.batch, final: e.final, passed: e.passed }))
    const result = await run
    expect(result.status).toBe('succeeded')
    expect(ends).toEqual([
      { batch: 0, final: false, passed: true },
      { batch: 1, final: false, passed: true },
      { batch: 2, final: true, passed: true },
    ])
    expect(inServiceAtChecks.every((n) => n === 3)).toBe(true)
    // A 30 s bake at a 5 s interval: 7 checks (0 s ... 30 s) per gate run, each run >= 30 s.
    expect(gate.asked.filter((a) => a.batch === 0)).toHaveLength(7)
    for (const g of result.gates ?? []) expect(g.durationMs).toBeGreaterThanOrEqual(30_000)
    expect(result.gates).toHaveLength(3)
    const journal = readJournal(await fx.journal.read(), 'memory')
    expect(journal?.records.filter((r) => r.type === 'gate').map((r) => (r as { passed: boolean }).passed)).toEqual([true, true, true])
  })

  it('a gate that fails after batch 1 halts the rollout, naming the gate and what it saw; nothing more is detached', async () => {
    const fx = setup({ size: 4 })
    const gate = scripted('cloudwatch', (ctx) => (ctx.batch === 0 ? { state: 'fail', detail: 'alarm checkout-5xx is ALARM' } : { state: 'pass', detail: 'ok' }))
    const result = await fx.run({ gates: [gate] })
    expect(result.status).toBe('halted')
    expect(result.reason).toBe('gate cloudwatch failed after batch 1 of 4: alarm checkout-5xx is ALARM')
    expect(fx.fleet.lb.calls.filter((c) => c.op === 'detach')).toHaveLength(1)
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'pending', 'host-3': 'pending', 'host-4': 'pending' })
    // Halted by the gate, the batch stays in service on the new build: the gate judged the fleet, not the host.
    expect(fx.fleet.targets.every((t) => fx.fleet.lb.inService(t.id))).toBe(true)
    expect(result.gates?.[0]).toMatchObject({ gate: 'cloudwatch', batch: 0, passed: false, detail: 'alarm checkout-5xx is ALARM' })
  })

  it("with onFailure 'rollback' a failed gate rolls the last batch back to its previous build", async () => {
    const fx = setup({ size: 4 })
    const gate = scripted('smoke', (ctx) => (ctx.batch === 1 ? { state: 'fail', detail: 'GET /checkout 500' } : { state: 'pass', detail: 'ok' }))
    const result = await fx.run({ gates: [gate], batch: 2, onFailure: 'rollback' })
    expect(result.status).toBe('halted')
    expect(result.reason).toMatch(/^gate smoke failed after the last batch: GET \/checkout 500; batch 2 rolled back: 2 target\(s\) on the previous build$/)
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'done', 'host-3': 'rolled-back', 'host-4': 'rolled-back' })
    expect(result.targets.find((r) => r.target.id === 'host-3')?.failedIn).toBe('gate')
    expect(fx.fleet.hosts.get('host-3')?.version).toBe('v1')
    expect(fx.fleet.hosts.get('host-1')?.version).toBe('v2')
    expect(fx.fleet.targets.every((t) => fx.fleet.lb.inService(t.id))).toBe(true)
    // The journal's state machine accepts done -> rolling-back -> attaching -> rolled-back.
    expect(readJournal(await fx.journal.read(), 'memory')?.end?.status).toBe('halted')
  })

  it("'wait' keeps polling on the engine's clock, and fails once undecided past the gate's timeout", async () => {
    const fx = setup({ size: 2 })
    const start = fx.clock.now()
    const slow = scripted('metrics', (ctx) =>
      ctx.clock.now() - start < 200_000 ? { state: 'wait', detail: 'no datapoints yet' } : { state: 'pass', detail: 'p99 120ms' },
    )
    let result = await fx.run({ gates: [slow] })
    expect(result.status).toBe('succeeded')
    expect(result.gates?.[0]?.durationMs).toBeGreaterThan(0)
    const fx2 = setup({ size: 2 })
    const never = scripted('metrics', () => ({ state: 'wait', detail: 'no datapoints yet' }), { timeout: 60_000 })
    result = await fx2.run({ gates: [never] })
    expect(result.status).toBe('halted')
    expect(result.reason).toBe('gate metrics failed after batch 1 of 2: still undecided after 60s: no datapoints yet')
    expect(fx2.fleet.lb.calls.filter((c) => c.op === 'detach')).toHaveLength(1)
  })

  it('an abort while a gate bakes ends the run aborted, not halted', async () => {
    const fx = setup({ size: 3 })
    const gate = scripted('errors', () => ({ state: 'pass', detail: 'ok' }))
    const run = fx.run({ gates: [gate], bake: 600_000 })
    run.on('gate:start', () => run.abort('operator said stop'))
    const result = await run
    expect(result.status).toBe('aborted')
    expect(result.reason).toBe('[rolling] aborted: operator said stop')
    expect(fx.fleet.lb.calls.filter((c) => c.op === 'detach')).toHaveLength(1)
  })
})

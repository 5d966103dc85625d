// Gates between batches (the `gates` option): after a batch is attached and before the next
// one detaches, and once at the end, each gate is watched on the engine's clock until it
// passes for `bake` ms, fails, or stays undecided past its timeout. A failure halts naming
// the gate and what it saw; with `onFailure: 'rollback'` the last batch is rolled back
// first. A graceful abort (or the deadline) ends the wait: nothing new starts anyway.
import type { Target } from '../types.js'
import type { Engine } from '../engine.js'
import { type GateOutcome, gateFailure, runGate } from '../gates/gate.js'
import { errorMessage } from '../errors.js'
import { toDetachResult } from '../discovery.js'
import type { Flight } from './flight.js'
import { rollback } from './rollback.js'
import { attach } from './attach.js'
import { hold } from './hold.js'

/**
 * Checks every gate after batch `batch` (0-based; `final` for the check at the end). Returns
 * a halt reason naming the failed gate, or undefined when all passed or the run is stopping.
 */
export async function checkGates(engine: Engine, batch: number, total: number, final: boolean, lastBatch: readonly Target[]): Promise<string | undefined> {
  const control = engine.control
  if (control.gates.length === 0 || engine.stopping) return undefined
  const scope = engine.stops.child(engine.clock, undefined, 'gates')
  const ctx = { service: engine.service, runId: engine.runId, artifact: engine.artifact, batch, total, final, clock: engine.clock, log: engine.log }
  try {
    for (const gate of control.gates) {
      engine.emitter.emit('gate:start', { gate: gate.name, batch, total, final })
      let outcome: GateOutcome
      try {
        outcome = await runGate(gate, ctx, { bake: control.bake, timeoutMs: engine.timeouts.gate, signal: scope.signal })
      } catch (error) {
        if (engine.stopping) return undefined // the abort's own reason ends the run
        throw error
      }
      const at = new Date(engine.clock.now()).toISOString()
      engine.write({ type: 'gate', i: batch, gate: gate.name, passed: outcome.passed, detail: outcome.detail, at, ...(final ? { final: true as const } : {}) })
      control.gateOutcomes.push({ gate: gate.name, batch, final, passed: outcome.passed, detail: outcome.detail, durationMs: outcome.durationMs })
      engine.emitter.emit('gate:end', { gate: gate.name, batch, total, final, passed: outcome.passed, detail: outcome.detail, durationMs: outcome.durationMs })
      for (const target of lastBatch) {
        const report = engine.report(target, -1)
        report.timings.gate = (report.timings.gate ?? 0) + outcome.durationMs
      }
      if (!outcome.passed) {
        const reason = gateFailure(outcome, final ? total : batch, total)
        if (engine.onFailure !== 'rollback') return reason
        return `${reason}; ${await rollBackBatch(engine, lastBatch, batch, reason)}`
      }
    }
    return undefined
  } finally {
    scope.dispose()
  }
}

/**
 * Rolls back the targets of the last batch that went into service on the new build: out of
 * the load balancer (with the drain policy), the recipe's rollback step, back in when they
 * answer 200 (`rolled-back`), or left out and failed. Returns what became of them.
 */
async function rollBackBatch(engine: Engine, targets: readonly Target[], batch: number, why: string): Promise<string> {
  const flights: Flight[] = targets
    .filter((t) => {
      const outcome = engine.report(t, -1).outcome
      return outcome === 'done' || outcome === 'unverified'
    })
    .map((target) => ({ target, entry: 'rollback', over: false }))
  if (flights.length === 0) return 'no target of that batch is on the new build to roll back'
  engine.recordAll(
    flights.map((f) => f.target),
    'rolling-back',
  )
  try {
    const timeoutMs = Math.max(engine.timeouts.detach, (engine.drain.timeoutMs ?? 0) + engine.timeouts.precheck)
    toDetachResult(
      await engine.withContext(`detach of ${flights.length} target(s) to roll back from ${engine.lb.name}`, timeoutMs, (ctx) =>
        engine.lb.detach(
          flights.map((f) => f.target),
          { ...ctx, drain: { ...engine.drain, onTimeout: 'proceed' } },
        ),
      ),
    )
  } catch (error) {
    // How far the detach got is unknown: put the batch back (attach is idempotent) on the new
    // build, which passed its checks; rolling back under traffic is worse than stopping here.
    for (const f of flights) f.attachAs = engine.report(f.target, -1).outcome as 'done' | 'unverified'
    await hold(engine, await attach(engine, flights, batch), batch)
    return `not rolled back: the detach failed (${errorMessage(error)}); the batch stays in service on the new build`
  }
  await Promise.all(flights.map((f) => rollback(engine, f, batch, why)))
  const back = flights.filter((f) => f.attachAs !== undefined)
  const held = await attach(engine, back, batch)
  await hold(engine, held, batch)
  for (const f of back) engine.report(f.target, batch).failedIn = 'gate'
  const rolled = flights.filter((f) => engine.report(f.target, -1).outcome === 'rolled-back').length
  const failed = flights.length - rolled
  return `batch ${batch + 1} rolled back: ${rolled} target(s) on the previous build${failed > 0 ? `, ${failed} failed and left out` : ''}`
}

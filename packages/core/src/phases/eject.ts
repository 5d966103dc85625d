// Eject: a target this rollout put back in service that no longer passes its check is
// taken out again and failed, so a broken host is left out, never left serving.
import type { Target } from '../types.js'
import type { Engine } from '../engine.js'
import type { Phase } from '../result.js'
import { errorMessage } from '../errors.js'
import { toDetachResult } from '../discovery.js'

export interface Failing {
  target: Target
  reason: string
}

export async function eject(engine: Engine, failing: readonly Failing[], batch: number, phase: Phase): Promise<void> {
  if (failing.length === 0) return
  const targets = failing.map((f) => f.target)
  engine.recordAll(targets, 'ejecting')
  await engine.durable()
  let foreign = new Set<string>()
  try {
    // It fails anyway: connections that do not drain in time are closed, not waited out.
    const drain = { onTimeout: 'proceed' as const, ...(engine.drain.timeoutMs === undefined ? {} : { timeoutMs: engine.drain.timeoutMs }) }
    const result = toDetachResult(
      await engine.withContext(`detach of ${targets.length} failing target(s) from ${engine.lb.name}`, engine.timeouts.detach, (ctx) =>
        engine.lb.detach(targets, { ...ctx, drain }),
      ),
    )
    foreign = new Set(result.foreign.map((e) => e.target.id))
  } catch (error) {
    for (const { target, reason } of failing) {
      const why = `${reason}; could not take it out of service: ${errorMessage(error)}`
      engine.settleOutcome(target, 'failed', why, phase)
      engine.emitter.emit('target:failed', { target, batch, phase, reason: why })
    }
    return
  }
  for (const { target, reason } of failing) {
    const why = foreign.has(target.id) ? `${reason}; already out of service by someone else's hand` : `${reason}; taken out of service again`
    engine.settleOutcome(target, 'failed', why, phase)
    engine.emitter.emit('target:failed', { target, batch, phase, reason: why })
  }
}

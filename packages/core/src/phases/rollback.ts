// What becomes of a detached target whose step failed or was cut short: rolled back to
// its previous build on request, put back when healthy after an abort, or left out.
import type { Health } from '../types.js'
import type { Engine } from '../engine.js'
import type { Phase } from '../result.js'
import { describeTarget, errorMessage } from '../errors.js'
import { waitUntil } from '../waiter.js'
import { type Flight, fail } from './flight.js'

/** Polls `_status` for up to `timeouts.abortGrace`, accepting either build. */
export async function waitForAnyBuild(engine: Engine, f: Flight): Promise<Health> {
  let last: Health = { ok: false, detail: 'not checked' }
  try {
    return await waitUntil(
      async () => {
        last = await engine.checkHealth(f.target)
        return last.ok ? { state: 'done', value: last } : { state: 'retry', observed: engine.describeHealth(last) }
      },
      {
        what: `${describeTarget(f.target)} to answer 200`,
        timeoutMs: engine.timeouts.abortGrace,
        minDelayMs: 200,
        maxDelayMs: 1000,
        signal: engine.cancelSignal,
        clock: engine.clock,
      },
    )
  } catch {
    return last
  }
}

/** After an abort or a failed detach: a healthy target goes back in, any other is listed. */
export async function restoreIfHealthy(engine: Engine, f: Flight, reason: string, phase: Phase = 'detach'): Promise<void> {
  const health = await waitForAnyBuild(engine, f)
  if (health.ok) {
    f.attachAs = 'restored'
    f.attachReason = `${reason}; healthy on ${health.version ?? 'an unnamed build'}, put back in service`
  } else fail(engine, f, engine.report(f.target, -1).batch, phase, `${reason}; not healthy (${engine.describeHealth(health)}), left out of the load balancer`)
}

/** A failed deploy or settle: halt with the target left out, or roll it back on request. */
export function onFailure(engine: Engine, f: Flight, batch: number, phase: Phase, reason: string): Promise<void> | void {
  if (engine.onFailure === 'rollback' && !engine.stopping) return rollback(engine, f, batch, reason)
  return fail(engine, f, batch, phase, reason)
}

/** Restores the previous build; attached again only when it answers 200. */
export async function rollback(engine: Engine, f: Flight, batch: number, why: string): Promise<void> {
  const { target } = f
  engine.record(target, 'rolling-back')
  engine.emitter.emit('target:rolling-back', { target, batch, reason: why })
  const rollbackStep = engine.recipe.rollback
  try {
    if (!rollbackStep) throw new Error('the deploy recipe has no rollback step')
    await engine.timed(target, 'rollback', () =>
      engine.withContext(
        `rollback of ${describeTarget(target)}`,
        engine.timeouts.stop,
        (ctx) => rollbackStep.call(engine.recipe, engine.stepArgs(target, ctx)),
        target,
      ),
    )
  } catch (error) {
    return fail(engine, f, batch, 'rollback', `${why}; rollback failed: ${errorMessage(error)}`)
  }
  const health = await waitForAnyBuild(engine, f)
  if (!health.ok) return fail(engine, f, batch, 'rollback', `${why}; rolled back but not healthy: ${engine.describeHealth(health)}`)
  f.attachAs = 'rolled-back'
  f.attachReason = why
  engine.report(target, batch).failedIn = 'settle'
}

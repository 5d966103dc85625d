// Pre-check: `_status` of each target before it is touched. Not 200 (or no answer in
// time), a `beforeTarget` veto, or already on the build being deployed: skipped untouched.
import type { Engine, SharedContext } from '../engine.js'
import { describeBuild } from '../build-seen.js'
import { errorMessage } from '../errors.js'
import { type Flight, skip } from './flight.js'

/** Reason prefix of targets skipped because they already run the build. */
export const ALREADY_ON = 'already on '

export async function precheck(engine: Engine, f: Flight, batch: number, shared: SharedContext): Promise<void> {
  engine.emitter.emit('target:precheck', { target: f.target, batch })
  // Timed inline rather than through engine.timed: this runs for every target (no closure).
  const start = engine.clock.now()
  // The executor's connection is opened meanwhile, so the deploy after the drain finds it warm.
  engine.executor.connect?.(f.target, shared.ctx(f.target)).catch((error: unknown) => {
    engine.log.debug(`[rolling] could not connect ahead to ${f.target.id}: ${errorMessage(error)}`)
  })
  const health = await engine.checkHealth(f.target, shared)
  engine.took(f.target, 'precheck', start)
  let reason: string | undefined
  if (!health.ok) reason = `pre-check failed: ${engine.describeHealth(health)}`
  else if (!engine.redeploy && engine.settle.requireBuild && engine.buildSeen(health) === 'new') {
    // Re-running a deploy after a halt must not take the finished hosts out again.
    reason = `${ALREADY_ON}${describeBuild(health)}`
    engine.report(f.target, batch).version = health.version
  } else {
    try {
      await engine.hook('beforeTarget', { target: f.target, batch })
    } catch (error) {
      reason = errorMessage(error)
    }
  }
  if (reason !== undefined) skip(engine, f, batch, reason)
}

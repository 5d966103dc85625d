// Deploy: the recipe's deploy step on a detached target, with the located artifact.
import type { Engine, SharedContext } from '../engine.js'
import { errorMessage } from '../errors.js'
import type { Flight } from './flight.js'
import { onFailure } from './rollback.js'

/** Runs the deploy step; false when it failed (the target is then failed or rolled back). */
export async function deploy(engine: Engine, f: Flight, batch: number, shared: SharedContext): Promise<boolean> {
  const { target } = f
  engine.emitter.emit('target:deploying', { target, batch, artifact: engine.artifact })
  const start = engine.clock.now()
  try {
    try {
      await engine.recipe.deploy(await engine.deployArgs(target, shared.ctx(target)))
    } finally {
      engine.took(target, 'deploy', start)
    }
    engine.defer(target, 'deployed')
    engine.emitter.emit('target:deployed', { target, batch, durationMs: engine.clock.now() - start })
    await engine.hook('afterDeploy', { target, batch })
    return true
  } catch (error) {
    await onFailure(engine, f, batch, 'deploy', errorMessage(error))
    return false
  }
}

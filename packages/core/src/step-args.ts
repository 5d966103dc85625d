// What a recipe step receives: the target, the artifact, its context, and `run`/`exec` bound to
// the target (`exec` fails the step on a non-zero exit, naming the command); and how a hook is called.
import type { AdapterContext, ArtifactLocation, ExecRequest, Target } from './types.js'
import type { DeployArgs, StepArgs } from './recipe.js'
import type { Engine } from './engine.js'
import { RollingError, errorMessage } from './errors.js'
import { execFailed } from './exec-failed.js'

export function stepArgs(engine: Engine, target: Target, ctx: AdapterContext): StepArgs
export function stepArgs(engine: Engine, target: Target, ctx: AdapterContext, location: ArtifactLocation): DeployArgs
export function stepArgs(engine: Engine, target: Target, ctx: AdapterContext, location?: ArtifactLocation): StepArgs | DeployArgs {
  const { executor } = engine
  const run = (request: string | ExecRequest) => executor.run(target, request, ctx)
  const args: StepArgs & { location?: ArtifactLocation } = {
    target,
    artifact: engine.artifact,
    signal: ctx.signal,
    clock: engine.clock,
    log: engine.log,
    ctx,
    executor,
    run,
    exec: async (request) => {
      const result = await run(request)
      if (result.exitCode !== 0) throw execFailed(executor.name, target, request, result)
      return result
    },
  }
  // Set last, as the spread `{ ...stepArgs, location }` did; no second object per deploy.
  if (location !== undefined) args.location = location
  return args
}

/** Awaits a hook; a throw becomes a HOOK_VETO error naming the hook. */
export async function callHook(name: string, fn: (a: unknown) => unknown, args: object): Promise<void> {
  try {
    await fn(args)
  } catch (error) {
    throw new RollingError('HOOK_VETO', `${name} hook vetoed: ${errorMessage(error)}`, { cause: error })
  }
}

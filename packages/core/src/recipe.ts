// The deploy steps a rollout runs on each target, through its executor.
import type { AdapterContext, Artifact, ArtifactLocation, Clock, ExecRequest, ExecResult, Executor, Logger, Target } from './types.js'

export interface StepArgs {
  target: Target
  artifact: Artifact
  /**
   * Runs a command on the target through the rollout's executor, streaming its output as
   * `target:output` events. Rejects with `EXEC_FAILED` on a non-zero exit.
   */
  exec(request: string | ExecRequest): Promise<ExecResult>
  /** Runs a command and resolves with its result whatever the exit code. */
  run(request: string | ExecRequest): Promise<ExecResult>
  signal: AbortSignal
  clock: Clock
  log: Logger
  /** The adapter context of this step, to pass to adapter calls the recipe makes itself. */
  ctx: AdapterContext
  /**
   * The rollout's executor, for a recipe that needs more of it than `exec` (an upload), so a
   * recipe is not given the executor a second time. Set by the engine; optional for step
   * arguments made by hand.
   */
  executor?: Executor
}

export interface DeployArgs extends StepArgs {
  /** Where this target fetches the artifact from. */
  location: ArtifactLocation
}

export interface RunningBuild {
  version: string
  builtAt?: string
}

/**
 * What "deploy" means for a service. Only `deploy` is required. Each step must be
 * idempotent: `resume` runs a step again when a crash left it unfinished.
 */
export interface DeployRecipe {
  /**
   * Optional: work that does not touch the running service (download, checksum, unpack
   * into a new release folder), run after the pre-check while the target is still in
   * service, so the time out of service is only the switch and restart. A failure skips
   * the target untouched and halts the rollout after the batch.
   */
  prepare?(args: DeployArgs): Promise<void>
  /** Installs the artifact on the target and restarts the service. */
  deploy(args: DeployArgs): Promise<void>
  /** Stops the service gracefully (verify phase, for a target on the wrong build). */
  stop?(args: StepArgs): Promise<void>
  /** Returns the target to the build it ran before (`onFailure: 'rollback'`). */
  rollback?(args: StepArgs): Promise<void>
  /** Reports the running build, when `_status` does not. Used by the verify phase. */
  version?(args: StepArgs): Promise<RunningBuild>
}

/** A recipe as a plain function, or a function returning the commands to run in order. */
export type DeployFunction = (args: DeployArgs) => Promise<void> | void | readonly (string | ExecRequest)[] | Promise<readonly (string | ExecRequest)[]>

/** Makes a recipe of a deploy function; a returned list of commands runs in order. */
export function toRecipe(deploy: DeployRecipe | DeployFunction): DeployRecipe {
  if (typeof deploy !== 'function') return deploy
  return {
    async deploy(args) {
      const commands = await deploy(args)
      if (commands) for (const command of commands) await args.exec(command)
    },
  }
}

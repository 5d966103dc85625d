// The options of a run with every default applied, once, and frozen: what the engine,
// `plan()`, `resume()` and the CLI read. Validation happens first (options.ts), so a
// resolved object is always a valid one.
import type { ArtifactStore, Clock, DrainPolicy, Executor, HealthCheck, LoadBalancer, Logger } from './types.js'
import type { DeployRecipe } from './recipe.js'
import type { Hooks } from './hooks.js'
import type { Journal } from './journal.js'
import type { Lock } from './lock.js'
import { type Amount, type ResolvedSettle, type RolloutOptions, type Timeouts, DEFAULT_TIMEOUTS, resolveSettle, validateOptions } from './options.js'
import { toRecipe } from './recipe.js'
import { systemClock } from './clock.js'
import type { Gate } from './gates/gate.js'
import type { ControlChannel } from './control.js'
import type { ZonePlan } from './plan.js'
import { type ResolvedPause, deadlineMs, resolvePause, resolveVerify } from './control-options.js'
import { fileControl } from './local/file-control.js'

/** The folder of the default file journal and lock. */
export const DEFAULT_STATE_DIR = '.rolling'

export interface ResolvedOptions {
  readonly service: string
  readonly loadBalancer: LoadBalancer
  readonly artifacts: ArtifactStore
  readonly executor: Executor
  /** `deploy` as a recipe (a function becomes a recipe whose returned commands run in order). */
  readonly recipe: DeployRecipe
  /** Unset: the run makes (and closes) its own `httpHealthCheck()`. */
  readonly healthCheck: HealthCheck | undefined
  readonly version: string
  readonly batch: Amount | readonly Amount[]
  readonly minHealthy: Amount
  readonly settle: Readonly<ResolvedSettle>
  readonly drain: Readonly<DrainPolicy>
  readonly onFailure: 'halt' | 'rollback'
  readonly maxStopped: number
  readonly redeploy: boolean
  readonly verify: boolean
  /** Verify: a target on another build is stopped, or deployed like the others. */
  readonly onMismatch: 'stop' | 'deploy'
  readonly gates: readonly Gate[]
  readonly bake: number
  readonly pause: ResolvedPause | undefined
  /**
   * Where `rolling approve` / `rolling abort` arrive. Unset with a lock of the caller's own
   * (the CLI finds a run through the default file lock, beside which the folder lives).
   */
  readonly control: ControlChannel | undefined
  readonly zones: Readonly<ZonePlan> | undefined
  readonly maxFailures: Amount
  /** The whole rollout must end this many ms after it started. */
  readonly deadlineMs: number | undefined
  readonly timeouts: Readonly<Timeouts>
  readonly hooks: Readonly<Hooks>
  readonly clock: Clock
  readonly logger: Logger | undefined
  readonly signal: AbortSignal | undefined
  readonly stateDir: string
  readonly journal: Journal | undefined
  readonly lock: Lock | undefined
  readonly runId: string | undefined
}

/** Validates `options` (throws ValidationError) and returns them with every default applied. */
export function resolveOptions(options: RolloutOptions): ResolvedOptions {
  validateOptions(options)
  const drain: DrainPolicy = {
    onTimeout: options.drain?.onTimeout ?? 'halt',
    ...(options.drain?.timeout === undefined ? {} : { timeoutMs: options.drain.timeout }),
  }
  return Object.freeze({
    service: options.service,
    loadBalancer: options.loadBalancer,
    artifacts: options.artifacts,
    executor: options.executor,
    recipe: toRecipe(options.deploy),
    healthCheck: options.healthCheck,
    version: options.version ?? 'latest',
    batch: options.batch ?? 1,
    minHealthy: options.minHealthy ?? 0,
    settle: Object.freeze(resolveSettle(options.settle)),
    drain: Object.freeze(drain),
    onFailure: options.onFailure ?? 'halt',
    maxStopped: options.maxStopped ?? 3,
    redeploy: options.redeploy ?? false,
    verify: resolveVerify(options.verify).run,
    onMismatch: resolveVerify(options.verify).onMismatch,
    gates: Object.freeze([...(options.gates ?? [])]),
    bake: options.bake ?? 0,
    pause: resolvePause(options.pause),
    control: options.control ?? (options.lock === undefined ? fileControl({ dir: options.stateDir ?? DEFAULT_STATE_DIR }) : undefined),
    zones: options.zones === undefined ? undefined : Object.freeze({ ...options.zones }),
    maxFailures: options.maxFailures ?? 0,
    deadlineMs: options.deadline === undefined ? undefined : deadlineMs(options.deadline),
    timeouts: Object.freeze({ ...DEFAULT_TIMEOUTS, ...options.timeouts }),
    hooks: Object.freeze({ ...options.hooks }),
    clock: options.clock ?? systemClock,
    logger: options.logger,
    signal: options.signal,
    stateDir: options.stateDir ?? DEFAULT_STATE_DIR,
    journal: options.journal,
    lock: options.lock,
    runId: options.runId,
  })
}

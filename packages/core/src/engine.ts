// The state of one rollout run and the steps every phase shares: adapter
// contexts with deadlines, journal records, hooks, health checks, reports.
// The phases themselves live in phases/*.ts; a batch in batch.ts; the flow in run.ts.
import type {
  AdapterContext,
  Artifact,
  ArtifactStore,
  Clock,
  DrainPolicy,
  ExcludedTarget,
  Executor,
  Health,
  HealthCheck,
  LoadBalancer,
  Logger,
  Target,
} from './types.js'
import type { DeployArgs, DeployRecipe, StepArgs } from './recipe.js'
import type { Hooks, HookContext } from './hooks.js'
import type { Journal, JournalRecord } from './journal.js'
import type { Lock } from './lock.js'
import type { Phase, RolloutWarning, TargetOutcome, TargetReport } from './result.js'
import type { TargetState } from './target-state.js'
import type { AttachAs } from './phases/flight.js'
import type { Prepared } from './prepare.js'
import type { Amount, ResolvedSettle, Timeouts } from './options.js'
import type { ResolvedOptions } from './resolve.js'
import type { RolloutEmitter } from './events.js'
import { type Scope, SignalFanout } from './signals.js'
import { describeTarget, errorMessage } from './errors.js'
import { type BuildSeen, buildSeen, describeBuild } from './build-seen.js'
import { engineLog } from './engine-log.js'
import { RunControl } from './run-control.js'
import { callHook, stepArgs } from './step-args.js'

export { type TargetState, FINAL_STATES, ATTACHED } from './target-state.js'

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/** What a run hands its engine besides the options; `requestStop` is a graceful abort with a reason. */
export type EngineDeps = { runId: string; health: HealthCheck; journal: Journal; lock: Lock; emitter: RolloutEmitter } & {
  stopSignal: AbortSignal
  cancelSignal: AbortSignal
  requestStop: (reason: string) => void
}

/** A deadline and signal shared by several targets' steps. */
export interface SharedContext {
  ctx(target?: Target): AdapterContext
  dispose(): void
}

export class Engine {
  readonly service: string
  /** Set once; `resume` adopts the interrupted run's id from the journal. */
  runId: string
  readonly lb: LoadBalancer
  readonly artifacts: ArtifactStore
  readonly executor: Executor
  readonly health: HealthCheck
  readonly recipe: DeployRecipe
  readonly settle: Readonly<ResolvedSettle>
  readonly timeouts: Readonly<Timeouts>
  readonly hooks: Readonly<Hooks>
  readonly onFailure: 'halt' | 'rollback'
  readonly maxStopped: number
  readonly minHealthy: Amount
  readonly drain: Readonly<DrainPolicy>
  /** Deploy targets already on the build too. */
  readonly redeploy: boolean
  readonly clock: Clock
  readonly journal: Journal
  readonly lock: Lock
  readonly emitter: RolloutEmitter
  readonly log: Logger
  /** Graceful abort: nothing new starts; in-flight steps finish. */
  readonly stopSignal: AbortSignal
  /** Forced cancel: in-flight adapter calls are aborted too. */
  readonly cancelSignal: AbortSignal
  /** Children of the stop and cancel signals, one listener each whatever the batch size. */
  readonly stops: SignalFanout
  readonly cancels: SignalFanout
  artifact!: Artifact
  batchCount = 0
  readonly reports = new Map<string, TargetReport>()
  /** Plan position of each target, the key of its journal records. */
  readonly index = new Map<string, number>()
  #deferred: JournalRecord[] = []
  /** Prepare steps under way, by target id. */
  readonly preparing = new Map<string, Promise<Prepared>>()
  /** Registered targets an operator had taken out when the rollout began. */
  excluded: ExcludedTarget[] = []
  /** Targets needing a human that are not `failed` (left out by someone else's hand, gone). */
  readonly attention = new Map<string, Target>()
  readonly warnings: RolloutWarning[] = []
  /** The number of targets planned, for `minHealthy` percentages. */
  planned = 0
  /** Clock time each target last passed a health check of this rollout (settle, hold, fleet check). */
  readonly passedAt = new Map<string, number>()
  /** Targets this rollout put (back) in service, in that order, and where the fleet check goes on. */
  readonly attachedInOrder: Target[] = []
  olderCursor = 0
  /** Gates, pause, failure budget, deadline, late joiners (run-control.ts). */
  readonly control: RunControl

  constructor(options: ResolvedOptions, deps: EngineDeps) {
    this.service = options.service
    this.runId = deps.runId
    this.lb = options.loadBalancer
    this.artifacts = options.artifacts
    this.executor = options.executor
    this.health = deps.health
    this.recipe = options.recipe
    this.settle = options.settle
    this.timeouts = options.timeouts
    this.hooks = options.hooks
    this.onFailure = options.onFailure
    this.maxStopped = options.maxStopped
    this.minHealthy = options.minHealthy
    this.drain = options.drain
    this.redeploy = options.redeploy
    this.clock = options.clock
    this.journal = deps.journal
    this.lock = deps.lock
    this.emitter = deps.emitter
    this.stopSignal = deps.stopSignal
    this.cancelSignal = deps.cancelSignal
    this.stops = new SignalFanout(deps.stopSignal)
    this.cancels = new SignalFanout(deps.cancelSignal)
    this.log = engineLog(options.logger ?? silent, deps.emitter, (id) => this.reports.get(id)?.target)
    this.control = new RunControl(options, deps.requestStop)
  }

  get stopping(): boolean {
    return this.stopSignal.aborted
  }

  /** Runs `fn` with an adapter context whose signal fires on cancel or after `timeoutMs`. */
  async withContext<T>(what: string, timeoutMs: number | undefined, fn: (ctx: AdapterContext) => Promise<T>, target?: Target): Promise<T> {
    const scope = this.cancels.child(this.clock, timeoutMs, what)
    try {
      return await fn(this.context(scope, target))
    } finally {
      scope.dispose()
    }
  }

  /**
   * One deadline shared by the steps of a batch that start together (pre-checks, deploys):
   * one timer and one signal for the batch instead of one per target.
   */
  shared(what: string, timeoutMs: number): SharedContext {
    const scope = this.cancels.child(this.clock, timeoutMs, what)
    return { ctx: (target) => this.context(scope, target), dispose: scope.dispose }
  }

  context(scope: Scope, target?: Target): AdapterContext {
    const ctx: AdapterContext = { signal: scope.signal, clock: this.clock, log: this.log, deadline: scope.deadline }
    if (target) ctx.output = (stream, chunk) => this.emitter.emit('target:output', { target, stream, chunk })
    return ctx
  }

  /** Writes records to the journal, after any deferred ones, in one write. */
  write(...records: JournalRecord[]): void {
    if (this.#deferred.length > 0) {
      records.unshift(...this.#deferred)
      this.#deferred = []
    }
    // Batch and verify starts carry their time, as target transitions do (entry()).
    for (const r of records) if ((r.type === 'batch' || r.type === 'verify') && r.at === undefined) r.at = this.clock.now()
    this.journal.append(...records)
  }

  /**
   * Resolves once every record written so far is durable (a journal that writes behind, as on
   * S3, flushes): awaited before a target leaves service, so the record saying it is out exists
   * before it is, and before the end is reported. A write that failed (a lost lease) rejects.
   */
  async durable(): Promise<void> {
    await this.journal.flush?.()
  }

  /** Writes a target's transition to the journal; called before the transition happens. */
  record(target: Target, state: TargetState, extra?: { o?: AttachAs | undefined }): void {
    this.write(this.entry(target, state, extra))
  }

  /** Writes one transition of many targets in a single journal write. */
  recordAll(targets: readonly Target[], state: TargetState): void {
    this.write(...targets.map((t) => this.entry(t, state)))
  }

  /**
   * Notes that a step finished (e.g. `deployed`); it goes out with the next write. A crash
   * before then only makes resume redo that step, and every step is idempotent. It saves
   * one write per target.
   */
  defer(target: Target, state: TargetState): void {
    this.#deferred.push(this.entry(target, state))
  }

  entry(target: Target, state: TargetState, extra?: { o?: AttachAs | undefined }): JournalRecord {
    const i = this.index.get(target.id)
    const at = this.clock.now()
    return i === undefined
      ? { type: 'v', target, s: state, at }
      : extra?.o === undefined
        ? { type: 't', i, s: state, at }
        : { type: 't', i, s: state, o: extra.o, at }
  }

  report(target: Target, batch: number): TargetReport {
    let report = this.reports.get(target.id)
    if (!report) {
      report = { target, outcome: 'pending', batch, timings: {} }
      this.reports.set(target.id, report)
    }
    return report
  }

  settleOutcome(target: Target, outcome: Exclude<TargetOutcome, 'pending'>, reason?: string, failedIn?: Phase): void {
    this.record(target, outcome)
    this.setOutcome(target, outcome, reason, failedIn)
  }

  /** The report's side of an outcome; the caller has journalled it. */
  setOutcome(target: Target, outcome: TargetOutcome, reason?: string, failedIn?: Phase): void {
    const report = this.report(target, -1)
    report.outcome = outcome
    if (reason !== undefined) report.reason = reason
    if (failedIn !== undefined) report.failedIn = failedIn
  }

  /** Adds the time since `start` to a phase of the target's report. */
  took(target: Target, phase: Phase, start: number): void {
    const report = this.reports.get(target.id)
    if (report) report.timings[phase] = (report.timings[phase] ?? 0) + (this.clock.now() - start)
  }

  /** Times a phase of one target into its report. */
  async timed<T>(target: Target, phase: Phase, fn: () => Promise<T>): Promise<T> {
    const start = this.clock.now()
    try {
      return await fn()
    } finally {
      this.took(target, phase, start)
    }
  }

  /** Calls a hook if set (unset: no promise per target); a throw becomes a HOOK_VETO error naming the hook. */
  hook<K extends keyof Hooks>(name: K, args: Omit<Parameters<NonNullable<Hooks[K]>>[0], keyof HookContext>): Promise<void> | undefined {
    const fn = this.hooks[name] as ((a: unknown) => unknown) | undefined
    const context: HookContext = { service: this.service, runId: this.runId, artifact: this.artifact, signal: this.stopSignal }
    return fn ? callHook(name, fn, { ...context, ...args }) : undefined
  }

  /** One `_status` check under the pre-check timeout (or a shared one); honours only a forced cancel. */
  checkHealth(target: Target, shared?: SharedContext): Promise<Health> {
    const checked = shared
      ? this.health.check(target, shared.ctx())
      : this.withContext(`health check of ${describeTarget(target)}`, this.timeouts.precheck, (ctx) => this.health.check(target, ctx))
    return checked.catch((error: unknown): Health => {
      if (this.cancelSignal.aborted) throw error
      return { ok: false, detail: errorMessage(error) }
    })
  }

  /** Which build a health answer reports: ours (version and, when given, build time), another, or none. */
  buildSeen(health: Health): BuildSeen {
    return buildSeen(health, this.artifact)
  }

  describeHealth(health: Health): string {
    if (health.ok && this.settle.requireBuild && this.buildSeen(health) === 'other')
      return `still running ${describeBuild(health)}, expected ${this.artifact.version}`
    return health.detail ?? (health.status === undefined ? 'no answer' : `status ${health.status}`)
  }

  /** Records a warning for the result and sends it as a `warning` event. */
  warn(kind: RolloutWarning['kind'], target: Target, message: string): void {
    this.warnings.push({ kind, target, message })
    this.log.warn(`[rolling] ${describeTarget(target)}: ${message}`, { target: target.id, kind })
  }

  /** Lists a target for a human without failing it (someone else took it out, it left the pool). */
  needsHuman(target: Target): void {
    this.attention.set(target.id, target)
  }

  /** Arguments of a recipe step on `target` (see step-args.ts). */
  stepArgs(target: Target, ctx: AdapterContext): StepArgs {
    return stepArgs(this, target, ctx)
  }
  /** Arguments of the deploy step: a step's, with where the host fetches the artifact. */
  async deployArgs(target: Target, ctx: AdapterContext): Promise<DeployArgs> {
    return stepArgs(this, target, ctx, await this.artifacts.locate(this.artifact, target, ctx))
  }
}

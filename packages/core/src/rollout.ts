// The public entry points: rollout(), plan() (a dry run) and resume(). Each
// validates its options once, fills in defaults, and hands over to run.ts.
import { randomBytes } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { join } from 'node:path'
import type { Artifact, ExcludedTarget, HealthCheck, Target } from './types.js'
import type { RolloutResult } from './result.js'
import type { RolloutOptions, ResolvedSettle } from './options.js'
import { type ResolvedOptions, DEFAULT_STATE_DIR, resolveOptions } from './resolve.js'
import { Engine } from './engine.js'
import { RolloutEmitter, type RolloutEvent, type RolloutEventMap, type RolloutEventName } from './events.js'
import { execute, readJournalState } from './run.js'
import { planBatches } from './plan.js'
import { type PlanControl, planControl } from './control-options.js'
import { fileJournal, type Journal } from './journal.js'
import { fileLock, type Lock, type LockHolder } from './lock.js'
import { httpHealthCheck } from './health/http.js'
import { AbortError, RollingError } from './errors.js'
import { discoverAll } from './discovery.js'
import { FLEET_CONCURRENCY, mapLimit } from './pool.js'
import { buildSeen } from './build-seen.js'
import type { AdapterContext, Health } from './types.js'

/** A running rollout: await it for the result; subscribe to its events before it starts. */
export interface RolloutRun extends PromiseLike<RolloutResult> {
  readonly runId: string
  /** Resolves with the result once the rollout ends; rejects when it could not start. */
  readonly result: Promise<RolloutResult>
  on<K extends RolloutEventName>(event: K, listener: (payload: RolloutEventMap[K]) => unknown): () => void
  once<K extends RolloutEventName>(event: K, listener: (payload: RolloutEventMap[K]) => unknown): () => void
  off<K extends RolloutEventName>(event: K, listener: (payload: RolloutEventMap[K]) => unknown): void
  /** Every event as one discriminated union; returns the unsubscribe function. */
  subscribe(listener: (event: RolloutEvent) => unknown): () => void
  /**
   * Releases the pause under way (`pause` option) so the next batch starts; false when the
   * run is not paused. `rolling approve` does the same from another process.
   */
  approve(note?: string, by?: string): boolean
  /** Graceful abort: start nothing new, let in-flight steps finish, put healthy targets back. A pause ends as aborted. */
  abort(reason?: string): void
  /** Forced cancel: in-flight adapter calls are aborted too. The journal allows `resume`. */
  cancel(reason?: string): void
  catch<T = never>(onRejected?: (reason: unknown) => T | PromiseLike<T>): Promise<RolloutResult | T>
  finally(onFinally?: () => void): Promise<RolloutResult>
}

/** Options of `resume`: the same adapters and settings; the plan and the build come from the journal. */
export type ResumeOptions = Omit<RolloutOptions, 'batch' | 'version' | 'runId'>

/**
 * Rolls the latest (or named) build of `service` across the load balancer's targets,
 * a batch at a time. Throws a ValidationError at once on bad options.
 */
export function rollout(options: RolloutOptions): RolloutRun {
  const resolved = resolveOptions(options)
  const runId = resolved.runId ?? newRunId()
  return start(resolved, runId, (engine) => execute(engine, { kind: 'new', ref: resolved.version, batch: resolved.batch, verify: resolved.verify }))
}

/** Finishes a rollout that a crash interrupted, from its journal. */
export function resume(options: ResumeOptions): RolloutRun {
  const resolved = resolveOptions(options as RolloutOptions)
  const journal = resolved.journal ?? defaultJournal(resolved)
  return start({ ...resolved, journal }, 'resume', async (engine) => {
    const state = readJournalState(await journal.read(), journal.location)
    engine.runId = state.runId
    return execute(engine, { kind: 'resume', verify: resolved.verify, state })
  })
}

export interface Plan {
  service: string
  artifact: Artifact
  candidates: Target[]
  batches: Target[][]
  /** Registered targets an operator took out of service: not candidates, left alone. */
  excluded: ExcludedTarget[]
  /**
   * Candidates whose health check already reports the build: a rollout skips them
   * (`already on v2`) unless `redeploy` is set. Empty with `redeploy`.
   */
  current: Target[]
  settle: ResolvedSettle
  onFailure: 'halt' | 'rollback'
  maxStopped: number
  /** Gates, pause, zones of each batch, failure budget, deadline, late joiners. */
  control: PlanControl
}

/**
 * A dry run: discovers the targets, resolves the build and asks each candidate which build it
 * runs (unless `redeploy`), then returns the batches. Changes nothing.
 */
export async function plan(options: RolloutOptions): Promise<Plan> {
  const o = resolveOptions(options)
  const ctx = { signal: o.signal ?? new AbortController().signal, clock: o.clock, log: o.logger ?? { debug() {}, info() {}, warn() {}, error() {} } }
  const artifact = await o.artifacts.resolve(o.service, o.version, ctx)
  const { targets: candidates, excluded } = await discoverAll(o.loadBalancer, ctx)
  if (candidates.length === 0) {
    throw new RollingError('EMPTY_POOL', `[rolling:${o.loadBalancer.name}] no target in service for ${o.service}: nothing to deploy to`)
  }
  const batches = planBatches(candidates, { batch: o.batch, minHealthy: o.minHealthy, zones: options.zones })
  return {
    service: o.service,
    artifact,
    candidates,
    batches,
    control: planControl(options, batches, candidates.length),
    excluded,
    current: o.redeploy || !o.settle.requireBuild ? [] : await alreadyOn(o, artifact, candidates, ctx),
    settle: { ...o.settle },
    onFailure: o.onFailure,
    maxStopped: o.maxStopped,
  }
}

/** The candidates whose health check reports `artifact` (version and build time). */
async function alreadyOn(options: ResolvedOptions, artifact: Artifact, candidates: readonly Target[], ctx: AdapterContext): Promise<Target[]> {
  const own = options.healthCheck ? undefined : httpHealthCheck()
  const health = options.healthCheck ?? (own as HealthCheck)
  try {
    const seen = await mapLimit(candidates, FLEET_CONCURRENCY, (target) => health.check(target, ctx).catch((): Health => ({ ok: false })))
    return candidates.filter((_, i) => (seen[i] as Health).ok && buildSeen(seen[i] as Health, artifact) === 'new')
  } finally {
    await own?.close()
  }
}

/** Removes the lock of `service` whoever holds it: for a stale lock left by a dead process. */
export function breakLock(service: string, options: { stateDir?: string; lock?: Lock } = {}): Promise<LockHolder | undefined> {
  return (options.lock ?? fileLock({ dir: options.stateDir ?? DEFAULT_STATE_DIR })).break(service)
}

function newRunId(): string {
  return `r-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** The default journal's file name in a state folder; the CLI reads it there too. */
export function journalFile(stateDir: string, service: string): string {
  return join(stateDir, `${service}.journal.jsonl`)
}

function defaultJournal(options: { stateDir: string; service: string }): Journal {
  return fileJournal(journalFile(options.stateDir, options.service))
}

function start(options: ResolvedOptions, runId: string, body: (engine: Engine) => Promise<RolloutResult>): RolloutRun {
  const emitter = new RolloutEmitter()
  const stop = new AbortController()
  const cancel = new AbortController()
  // Every in-flight step of a large batch listens on these: not a leak, so no warning.
  setMaxListeners(0, stop.signal, cancel.signal)
  const onUserAbort = () => stop.abort(options.signal?.reason ?? new AbortError())
  if (options.signal?.aborted) onUserAbort()
  else options.signal?.addEventListener('abort', onUserAbort, { once: true })
  const ownHealth: HealthCheck | undefined = options.healthCheck ? undefined : httpHealthCheck()
  const journal = options.journal ?? defaultJournal(options)
  const engine = new Engine(options, {
    runId,
    health: options.healthCheck ?? (ownHealth as HealthCheck),
    journal,
    lock: options.lock ?? fileLock({ dir: options.stateDir }),
    emitter,
    stopSignal: stop.signal,
    cancelSignal: cancel.signal,
    requestStop: (reason) => {
      if (!stop.signal.aborted) stop.abort(new AbortError(`[rolling] aborted: ${reason}`))
    },
  })
  // Start on the next microtask, so listeners added right after rollout() see every event.
  const result = Promise.resolve().then(async () => {
    try {
      return await body(engine)
    } finally {
      options.signal?.removeEventListener('abort', onUserAbort)
      await (ownHealth as { close?: () => Promise<void> } | undefined)?.close?.()
      if (!options.journal) await journal.close()
    }
  })
  return {
    get runId() {
      return engine.runId
    },
    result,
    on: (event, listener) => emitter.on(event, listener),
    once: (event, listener) => emitter.once(event, listener),
    off: (event, listener) => emitter.off(event, listener),
    subscribe: (listener) => emitter.subscribe(listener),
    approve: (note, by) => engine.control.approvals.release('approved', by ?? 'run.approve()', note),
    abort: (reason) => stop.abort(new AbortError(reason ? `[rolling] aborted: ${reason}` : '[rolling] aborted')),
    cancel: (reason) => {
      const error = new AbortError(reason ? `[rolling] cancelled: ${reason}` : '[rolling] cancelled')
      stop.abort(error)
      cancel.abort(error)
    },
    // biome-ignore lint/suspicious/noThenProperty: a run is awaitable on purpose (`await rollout(...)`).
    then: (onFulfilled, onRejected) => result.then(onFulfilled, onRejected),
    catch: (onRejected) => result.catch(onRejected),
    finally: (onFinally) => result.finally(onFinally),
  }
}

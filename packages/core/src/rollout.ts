// The public entry points: rollout(), plan() (a dry run) and resume(). Each
// validates its options once, fills in defaults, and hands over to run.ts.
import { randomBytes } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { join } from 'node:path'
import type { Artifact, ExcludedTarget, HealthCheck, Target } from './types.js'
import type { RolloutResult } from './result.js'
import { type RolloutOptions, type ResolvedSettle, resolveSettle, validateOptions } from './options.js'
import { Engine } from './engine.js'
import { RolloutEmitter, type RolloutEvent, type RolloutEventMap, type RolloutEventName } from './events.js'
import { execute, readJournalState } from './run.js'
import { batchSizes, splitBatches } from './plan.js'
import { fileJournal, type Journal } from './journal.js'
import { fileLock, type Lock, type LockHolder } from './lock.js'
import { httpHealthCheck } from './health/http.js'
import { systemClock } from './clock.js'
import { AbortError, RollingError } from './errors.js'
import { discoverAll } from './discovery.js'
import { FLEET_CONCURRENCY, mapLimit } from './pool.js'
import { buildSeen } from './engine.js'
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
  /** Graceful abort: start nothing new, let in-flight steps finish, put healthy targets back. */
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
  validateOptions(options)
  const runId = options.runId ?? newRunId()
  return start(options, runId, (engine) =>
    execute(engine, { kind: 'new', ref: options.version ?? 'latest', batch: options.batch, verify: options.verify ?? true }),
  )
}

/** Finishes a rollout that a crash interrupted, from its journal. */
export function resume(options: ResumeOptions): RolloutRun {
  validateOptions(options as RolloutOptions)
  const journal = options.journal ?? defaultJournal(options)
  return start({ ...options, journal } as RolloutOptions, 'resume', async (engine) => {
    const state = readJournalState(await journal.read(), journal.location)
    engine.runId = state.runId
    return execute(engine, { kind: 'resume', verify: options.verify ?? true, state })
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
}

/**
 * A dry run: discovers the targets, resolves the build and asks each candidate which build it
 * runs (unless `redeploy`), then returns the batches. Changes nothing.
 */
export async function plan(options: RolloutOptions): Promise<Plan> {
  validateOptions(options)
  const clock = options.clock ?? systemClock
  const ctx = { signal: options.signal ?? new AbortController().signal, clock, log: options.logger ?? { debug() {}, info() {}, warn() {}, error() {} } }
  const artifact = await options.artifacts.resolve(options.service, options.version ?? 'latest', ctx)
  const { targets: candidates, excluded } = await discoverAll(options.loadBalancer, ctx)
  if (candidates.length === 0) {
    throw new RollingError('EMPTY_POOL', `[rolling:${options.loadBalancer.name}] no target in service for ${options.service}: nothing to deploy to`)
  }
  const settle = resolveSettle(options.settle)
  return {
    service: options.service,
    artifact,
    candidates,
    batches: splitBatches(candidates, batchSizes(candidates.length, options.batch, options.minHealthy)),
    excluded,
    current: options.redeploy || !settle.requireBuild ? [] : await alreadyOn(options, artifact, candidates, ctx),
    settle,
    onFailure: options.onFailure ?? 'halt',
    maxStopped: options.maxStopped ?? 3,
  }
}

/** The candidates whose health check reports `artifact` (version and build time). */
async function alreadyOn(options: RolloutOptions, artifact: Artifact, candidates: readonly Target[], ctx: AdapterContext): Promise<Target[]> {
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
  return (options.lock ?? fileLock({ dir: options.stateDir ?? '.rolling' })).break(service)
}

function newRunId(): string {
  return `r-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

function defaultJournal(options: { stateDir?: string; service: string }): Journal {
  return fileJournal(join(options.stateDir ?? '.rolling', `${options.service}.journal.jsonl`))
}

function start(options: RolloutOptions, runId: string, body: (engine: Engine) => Promise<RolloutResult>): RolloutRun {
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
    lock: options.lock ?? fileLock({ dir: options.stateDir ?? '.rolling' }),
    emitter,
    stopSignal: stop.signal,
    cancelSignal: cancel.signal,
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

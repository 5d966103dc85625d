// One batch: pre-check each target, detach the passing ones in one call, deploy
// and settle each, attach the healthy ones in one call. A target whose new build
// fails stays detached for manual verification (or is rolled back on request).
import type { Health, Target } from './types.js'
import type { Engine, SharedContext, TargetState } from './engine.js'
import type { Phase, TargetOutcome } from './result.js'
import { describeTarget, errorMessage } from './errors.js'
import { waitUntil } from './waiter.js'
import { prepared } from './prepare.js'
import { formatMs } from './clock.js'

/** Where a target enters the batch: fresh, or mid-way when resuming from the journal. */
export type Entry = 'fresh' | 'detach' | 'deploy' | 'settle' | 'rollback' | 'attach'

/** Entries that go through the deploy step. */
const DEPLOYS: ReadonlySet<Entry> = new Set(['fresh', 'detach', 'deploy'])

interface Flight {
  target: Target
  entry: Entry
  /** Outcome once attached: done, rolled-back or restored. */
  attachAs?: TargetOutcome
  attachReason?: string
  /** Set when the target is finished without attaching (skipped, failed, pending). */
  over: boolean
}

export interface BatchEnd {
  /** Why no further batch may start, if so. */
  halt?: string
}

/**
 * Runs one batch. `next` is called once this batch waits on the load balancer to attach
 * (CPU and hosts idle), so the caller can prepare the next batch meanwhile.
 */
export async function runBatch(
  engine: Engine,
  index: number,
  total: number,
  targets: readonly Target[],
  entries?: ReadonlyMap<string, Entry>,
  next?: () => void,
): Promise<BatchEnd> {
  let nextStarted = false
  const startNext = () => {
    if (nextStarted) return
    nextStarted = true
    next?.()
  }
  const flights: Flight[] = targets.map((target) => {
    engine.report(target, index)
    return { target, entry: entries?.get(target.id) ?? 'fresh', over: false }
  })
  engine.emitter.emit('batch:start', { index, total, targets })
  let halt: string | undefined

  const fresh = flights.filter((f) => f.entry === 'fresh')
  if (engine.stopping) for (const f of fresh) f.over = true
  else if (fresh.length > 0) {
    const shared = engine.shared(`pre-check of batch ${index + 1}`, engine.timeouts.precheck)
    await Promise.all(fresh.map((f) => precheck(engine, f, index, shared))).finally(shared.dispose)
  }

  if (engine.recipe.prepare && !engine.stopping) {
    for (const { target, reason } of await prepared(engine, fresh.filter((f) => !f.over).map((f) => f.target), index)) {
      const f = flights.find((x) => x.target === target) as Flight
      f.over = true
      engine.settleOutcome(target, 'skipped', reason, 'prepare')
      engine.emitter.emit('target:skipped', { target, batch: index, reason })
      halt ??= `${describeTarget(target)}: ${reason}`
    }
  }

  const out = flights.filter((f) => !f.over)
  if (out.length > 0) {
    const detached = await detach(engine, out, index)
    if (!detached) halt = `detach of batch ${index + 1} failed`
    else {
      // The deploys start together after the detach, so they share one deadline; so do
      // the settle checks, bounded by the deploy, the settle deadline and one last check.
      const deploy = engine.shared(`deploy of batch ${index + 1}`, engine.timeouts.deploy)
      const settle = engine.shared(
        `settle of batch ${index + 1}`,
        engine.timeouts.deploy + Math.max(engine.settle.delay, engine.settle.deadline) + engine.timeouts.precheck,
      )
      // All deploys start now: one journal write says so for the whole batch.
      if (!engine.stopping) engine.recordAll(out.filter((f) => DEPLOYS.has(f.entry)).map((f) => f.target), 'deploying')
      await Promise.all(out.map((f) => deployAndSettle(engine, f, index, deploy, settle))).finally(() => {
        deploy.dispose()
        settle.dispose()
      })
    }
    await attach(engine, out.filter((f) => f.attachAs !== undefined), index, startNext)
  }
  startNext()

  const outcomes: Record<string, TargetOutcome> = {}
  for (const f of flights) {
    const outcome = engine.report(f.target, index).outcome
    outcomes[f.target.id] = outcome
    if (!halt && (outcome === 'failed' || outcome === 'rolled-back')) {
      halt = `${describeTarget(f.target)} failed its ${engine.report(f.target, index).failedIn ?? 'deploy'}`
    }
  }
  engine.emitter.emit('batch:end', { index, total, outcomes })
  return halt ? { halt } : {}
}

async function precheck(engine: Engine, f: Flight, batch: number, shared: SharedContext): Promise<void> {
  // Timed inline rather than through engine.timed: this runs for every target (no closure).
  const start = engine.clock.now()
  const health = await engine.checkHealth(f.target, shared)
  engine.took(f.target, 'precheck', start)
  let reason: string | undefined
  if (!health.ok) reason = `pre-check failed: ${engine.describeHealth(health)}`
  else {
    try {
      await engine.hook('beforeTarget', { target: f.target, batch })
    } catch (error) {
      reason = errorMessage(error)
    }
  }
  if (reason === undefined) return
  f.over = true
  engine.settleOutcome(f.target, 'skipped', reason)
  engine.emitter.emit('target:skipped', { target: f.target, batch, reason })
}

/** Detaches the batch in one call. On failure, puts back the targets that are healthy. */
async function detach(engine: Engine, flights: Flight[], batch: number): Promise<boolean> {
  const targets = flights.map((f) => f.target)
  engine.recordAll(targets, 'detaching')
  const start = engine.clock.now()
  try {
    await engine.withContext(`detach of ${targets.length} target(s) from ${engine.lb.name}`, engine.timeouts.detach, (ctx) => engine.lb.detach(targets, ctx))
  } catch (error) {
    // How far the detach got is unknown; the targets still run the old build.
    const reason = `detach failed: ${errorMessage(error)}`
    engine.log.warn(`[rolling] ${reason}`, { batch })
    await Promise.all(flights.map((f) => restoreIfHealthy(engine, f, reason)))
    return false
  }
  const ms = engine.clock.now() - start
  engine.recordAll(targets, 'detached')
  for (const f of flights) {
    engine.report(f.target, batch).timings.detach = ms
    engine.emitter.emit('target:detached', { target: f.target, batch })
  }
  return true
}

async function deployAndSettle(engine: Engine, f: Flight, batch: number, shared: SharedContext, checks: SharedContext): Promise<void> {
  const { target } = f
  if (f.entry === 'attach') {
    f.attachAs = 'done'
    return
  }
  if (f.entry === 'rollback') return rollback(engine, f, batch, 'resumed an interrupted rollback')
  if (f.entry !== 'settle') {
    if (engine.stopping) return restoreIfHealthy(engine, f, 'aborted before deploy')
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
    } catch (error) {
      return onFailure(engine, f, batch, 'deploy', errorMessage(error))
    }
  }
  const settleStart = engine.clock.now()
  const settled = await settle(engine, target, checks)
  engine.took(target, 'settle', settleStart)
  if (!settled.passed) {
    engine.emitter.emit('target:unhealthy', { target, batch, health: settled.health, reason: settled.reason })
    if (settled.aborted) return fail(engine, f, batch, 'settle', `aborted; ${settled.reason}`)
    return onFailure(engine, f, batch, 'settle', settled.reason)
  }
  engine.emitter.emit('target:healthy', { target, batch, health: settled.health })
  try {
    await engine.hook('beforeAttach', { target, batch, health: settled.health })
  } catch (error) {
    return fail(engine, f, batch, 'settle', errorMessage(error))
  }
  // The check is 200 or not, as designed; a wrong build is the verify phase's to find.
  // Only after an abort does the reported build decide between done and restored.
  f.attachAs = settled.aborted === undefined || engine.onNewBuild(settled.health) ? 'done' : 'restored'
  if (f.attachAs === 'restored') f.attachReason = `aborted; healthy on ${settled.health.version ?? 'an unknown build'}`
}

interface Settled {
  passed: boolean
  health: Health
  reason: string
  aborted?: boolean
}

/** Waits `settle.delay`, then checks `_status` once or polls it. An abort cuts the wait short. */
async function settle(engine: Engine, target: Target, checks: SharedContext): Promise<Settled> {
  const { delay, interval } = engine.settle
  // Only a wait needs its own stop signal; a single immediate check does not.
  if (delay === 0 && interval === undefined) return settleUntil(engine, target, engine.stopSignal, checks)
  const stop = engine.stops.child(engine.clock, undefined, 'settle')
  try {
    return await settleUntil(engine, target, stop.signal, checks)
  } finally {
    stop.dispose()
  }
}

async function settleUntil(engine: Engine, target: Target, stopSignal: AbortSignal, checks: SharedContext): Promise<Settled> {
  const { delay, interval, deadline, successes } = engine.settle
  const start = engine.clock.now()
  try {
    if (delay > 0) await engine.clock.sleep(delay, stopSignal)
    if (interval === undefined) {
      const health = await engine.checkHealth(target, checks)
      return { passed: health.ok, health, reason: engine.describeHealth(health) }
    }
    let streak = 0
    let last: Health = { ok: false, detail: 'not checked' }
    await waitUntil(
      async () => {
        last = await engine.checkHealth(target, checks)
        streak = last.ok ? streak + 1 : 0
        return streak >= successes ? { state: 'done', value: last } : { state: 'retry', observed: engine.describeHealth(last) }
      },
      {
        what: `${describeTarget(target)} to answer 200${successes > 1 ? ` ${successes} times in a row` : ''}`,
        timeoutMs: Math.max(0, deadline - (engine.clock.now() - start)),
        minDelayMs: interval,
        maxDelayMs: interval,
        factor: 1,
        jitter: 0,
        signal: stopSignal,
        clock: engine.clock,
      },
    ).catch((error: unknown) => {
      if (!engine.stopping) throw error
      return last
    })
    if (!engine.stopping || last.ok) return { passed: true, health: last, reason: 'healthy' }
  } catch (error) {
    if (!engine.stopping) {
      const health: Health = { ok: false, detail: errorMessage(error) }
      return { passed: false, health, reason: `not healthy within ${formatMs(deadline)}: ${errorMessage(error)}` }
    }
  }
  // Aborted mid-settle: the target is detached and must not be silently lost.
  // Give it a short grace to come up on either build; healthy ones go back.
  const health = await waitForAnyBuild(engine, target)
  return { passed: health.ok, health, reason: health.ok ? 'healthy' : engine.describeHealth(health), aborted: true }
}

/** Polls `_status` for up to `timeouts.abortGrace`, accepting either build. */
async function waitForAnyBuild(engine: Engine, target: Target): Promise<Health> {
  let last: Health = { ok: false, detail: 'not checked' }
  try {
    return await waitUntil(
      async () => {
        last = await engine.checkHealth(target)
        return last.ok ? { state: 'done', value: last } : { state: 'retry', observed: engine.describeHealth(last) }
      },
      { what: `${describeTarget(target)} to answer 200`, timeoutMs: engine.timeouts.abortGrace, minDelayMs: 200, maxDelayMs: 1000, signal: engine.cancelSignal, clock: engine.clock },
    )
  } catch {
    return last
  }
}

/** After an abort or a failed detach: a healthy target goes back in, any other is listed. */
async function restoreIfHealthy(engine: Engine, f: Flight, reason: string): Promise<void> {
  const health = await waitForAnyBuild(engine, f.target)
  if (health.ok) {
    f.attachAs = 'restored'
    f.attachReason = reason
  } else fail(engine, f, engine.report(f.target, -1).batch, 'detach', `${reason}; not healthy (${engine.describeHealth(health)}), left out of the load balancer`)
}

function onFailure(engine: Engine, f: Flight, batch: number, phase: Phase, reason: string): Promise<void> | void {
  if (engine.onFailure === 'rollback' && !engine.stopping) return rollback(engine, f, batch, reason)
  return fail(engine, f, batch, phase, reason)
}

function fail(engine: Engine, f: Flight, batch: number, phase: Phase, reason: string): void {
  f.over = true
  f.attachAs = undefined
  engine.settleOutcome(f.target, 'failed', reason, phase)
  engine.emitter.emit('target:failed', { target: f.target, batch, phase, reason })
}

/** Restores the previous build; attached again only when it answers 200. */
async function rollback(engine: Engine, f: Flight, batch: number, why: string): Promise<void> {
  const { target } = f
  engine.record(target, 'rolling-back')
  const rollbackStep = engine.recipe.rollback
  try {
    if (!rollbackStep) throw new Error('the deploy recipe has no rollback step')
    await engine.timed(target, 'rollback', () =>
      engine.withContext(`rollback of ${describeTarget(target)}`, engine.timeouts.stop, (ctx) => rollbackStep.call(engine.recipe, engine.stepArgs(target, ctx)), target),
    )
  } catch (error) {
    return fail(engine, f, batch, 'rollback', `${why}; rollback failed: ${errorMessage(error)}`)
  }
  const health = await waitForAnyBuild(engine, target)
  if (!health.ok) return fail(engine, f, batch, 'rollback', `${why}; rolled back but not healthy: ${engine.describeHealth(health)}`)
  f.attachAs = 'rolled-back'
  f.attachReason = why
  engine.report(target, batch).failedIn = 'settle'
}

/** Attaches in one call; a failure leaves the targets listed for manual verification. */
async function attach(engine: Engine, flights: Flight[], batch: number, waiting?: () => void): Promise<void> {
  if (flights.length === 0) return
  waiting?.()
  const targets = flights.map((f) => f.target)
  engine.write(...flights.map((f) => engine.entry(f.target, 'attaching', { o: f.attachAs })))
  const start = engine.clock.now()
  try {
    await engine.withContext(`attach of ${targets.length} target(s) to ${engine.lb.name}`, engine.timeouts.attach, (ctx) => engine.lb.attach(targets, ctx))
  } catch (error) {
    for (const f of flights) fail(engine, f, batch, 'attach', `attach failed: ${errorMessage(error)}`)
    return
  }
  const ms = engine.clock.now() - start
  engine.write(...flights.map((f) => engine.entry(f.target, f.attachAs ?? 'done')))
  for (const f of flights) {
    engine.report(f.target, batch).timings.attach = ms
    engine.setOutcome(f.target, f.attachAs ?? 'done', f.attachReason)
    engine.emitter.emit('target:attached', { target: f.target, batch })
    if (f.attachAs === 'rolled-back') engine.emitter.emit('target:rolled-back', { target: f.target, batch })
  }
}

export type { TargetState }

// Settle: after the deploy, wait `settle.delay`, then check `_status` once or poll it
// until `successes` passing checks in a row. A check passes on 200 from the build being
// deployed (when the target says which build it runs); 200 from another build is "still
// running v1". An abort cuts the wait short and puts a healthy target back as restored.
import type { Health, Target } from '../types.js'
import type { Engine, SharedContext } from '../engine.js'
import { describeTarget, errorMessage } from '../errors.js'
import { formatMs } from '../clock.js'
import { waitUntil } from '../waiter.js'
import { type Flight, fail } from './flight.js'
import { onFailure, waitForAnyBuild } from './rollback.js'

/**
 * Until a target first passes, it is polled at most this far apart: an app that is still
 * starting refuses the connection at little cost, and the poll cadence then adds at most
 * this much to the app's own start-up.
 */
export const STARTING_POLL_MS = 25
/**
 * Once it passes, the checks confirming it (`successes` in a row) follow this far apart: they
 * prove it answers on the new build, again and again, not that it stays up for a while
 * (that is `settle.hold`), so spacing them `interval` apart would only add (successes - 1)
 * intervals to each host's time out of service. After a failure that follows a pass (a
 * flapping app), polling goes back to `interval`.
 */
export const CONFIRM_POLL_MS = 10

interface Settled {
  passed: boolean
  health: Health
  reason: string
  aborted?: boolean
}

/** Settles a deployed target; on success marks it to be attached as done or unverified. */
export async function settle(engine: Engine, f: Flight, batch: number, checks: SharedContext): Promise<void> {
  const { target } = f
  const start = engine.clock.now()
  const settled = await settleWithStop(engine, target, checks)
  engine.took(target, 'settle', start)
  if (settled.aborted) {
    if (!settled.passed) {
      engine.emitter.emit('target:unhealthy', { target, batch, health: settled.health, reason: settled.reason })
      return fail(engine, f, batch, 'settle', `aborted during settle; ${settled.reason}`)
    }
    // Healthy, but the settle criterion was not met: back in service, not `done`.
    f.attachAs = 'restored'
    f.attachReason = `aborted during settle; healthy on ${settled.health.version ?? 'an unnamed build'}, put back in service`
    return
  }
  if (!settled.passed) {
    engine.emitter.emit('target:unhealthy', { target, batch, health: settled.health, reason: settled.reason })
    return onFailure(engine, f, batch, 'settle', settled.reason)
  }
  engine.passedAt.set(target.id, engine.clock.now())
  engine.emitter.emit('target:healthy', { target, batch, health: settled.health })
  try {
    await engine.hook('beforeAttach', { target, batch, health: settled.health })
  } catch (error) {
    return fail(engine, f, batch, 'settle', errorMessage(error))
  }
  // `done` only when the health check named our build; otherwise verify has to confirm it.
  const confirmed = engine.settle.requireBuild && engine.buildSeen(settled.health) === 'new'
  f.attachAs = confirmed ? 'done' : 'unverified'
  if (!confirmed) {
    f.attachReason = engine.settle.requireBuild
      ? 'healthy, but its health check reports no build: unverified until verify confirms it'
      : 'healthy (settle.requireBuild is off): unverified until verify confirms the build'
  }
}

/** True when a health answer passes settle: 200 and, unless told otherwise, our build. */
export function passes(engine: Engine, health: Health): boolean {
  return health.ok && (!engine.settle.requireBuild || engine.buildSeen(health) !== 'other')
}

async function settleWithStop(engine: Engine, target: Target, checks: SharedContext): Promise<Settled> {
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
  let last: Health = { ok: false, detail: 'not checked' }
  try {
    if (delay > 0) await engine.clock.sleep(delay, stopSignal)
    if (interval === undefined) {
      last = await engine.checkHealth(target, checks)
      return { passed: passes(engine, last), health: last, reason: engine.describeHealth(last) }
    }
    let streak = 0
    let everPassed = false
    await waitUntil(
      async () => {
        last = await engine.checkHealth(target, checks)
        const good = passes(engine, last)
        everPassed ||= good
        streak = good ? streak + 1 : 0
        if (streak >= successes) return { state: 'done', value: last }
        // 200 from the old build is waited out too: a restart may take a moment to replace it.
        const delayMs = good ? CONFIRM_POLL_MS : everPassed ? interval : STARTING_POLL_MS
        return { state: 'retry', observed: engine.describeHealth(last), delayMs: Math.min(interval, delayMs) }
      },
      {
        what: `${describeTarget(target)} to answer 200${engine.settle.requireBuild ? ` on ${engine.artifact.version}` : ''}${successes > 1 ? ` ${successes} times in a row` : ''}`,
        timeoutMs: Math.max(0, deadline - (engine.clock.now() - start)),
        minDelayMs: interval,
        maxDelayMs: interval,
        factor: 1,
        jitter: 0,
        signal: stopSignal,
        clock: engine.clock,
      },
    )
    return { passed: true, health: last, reason: 'healthy' }
  } catch (error) {
    if (!engine.stopping) {
      const seen = last.detail === 'not checked' ? errorMessage(error) : engine.describeHealth(last)
      return {
        passed: false,
        health: last.detail === 'not checked' ? { ok: false, detail: errorMessage(error) } : last,
        reason: `not healthy within ${formatMs(deadline)}: ${seen}`,
      }
    }
  }
  // Aborted mid-settle: the target is detached and must not be silently lost.
  // Give it a short grace to come up on either build; healthy ones go back.
  const health = await waitForAnyBuild(engine, { target, entry: 'settle', over: false })
  return { passed: health.ok, health, reason: health.ok ? 'healthy' : engine.describeHealth(health), aborted: true }
}

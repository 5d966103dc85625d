// The verify phase: after the last batch, discover again (autoscaling may have
// added hosts) and check each target runs the expected build. Mismatches are
// stopped gracefully (detached, then the stop step); too many fail the rollout.
import type { Target } from './types.js'
import type { Engine, SharedContext } from './engine.js'
import type { RunningBuild } from './recipe.js'
import { amountOf } from './plan.js'
import { describeTarget, errorMessage } from './errors.js'

export interface VerifyEnd {
  /** Why the rollout failed, if it did. */
  failed?: string
}

/** How many targets verify checks at once. */
const VERIFY_CONCURRENCY = 32

type Observed = { build?: RunningBuild; source: string; error?: string }

export async function verify(engine: Engine, resumedStops: readonly Target[] = []): Promise<VerifyEnd> {
  const targets = await engine.withContext(`discover on ${engine.lb.name}`, engine.timeouts.precheck, (ctx) => engine.lb.discover(ctx))
  await engine.hook('beforeVerify', { targets })
  engine.write({ type: 'verify' })
  engine.emitter.emit('verify:start', { targets })
  const expected = { version: engine.artifact.version, builtAt: engine.artifact.builtAt }
  const mismatched: Target[] = []
  const unknown: string[] = []
  const check = async (target: Target, shared: SharedContext) => {
    const report = engine.report(target, -1)
    const start = engine.clock.now()
    const observed = await runningBuild(engine, target, shared)
    engine.took(target, 'verify', start)
    if (!observed.build) {
      unknown.push(`${describeTarget(target)} (${observed.error})`)
      return
    }
    report.version = observed.build.version
    if (matches(observed.build, expected)) {
      if (report.outcome === 'pending') report.outcome = 'done'
      return
    }
    mismatched.push(target)
    engine.emitter.emit('verify:mismatch', { target, expected, actual: observed.build, source: observed.source })
  }
  // A few workers pulling from the list: nothing is queued per target up front. One
  // deadline bounds the phase: as long as every check taking its whole timeout.
  const rounds = Math.ceil(targets.length / VERIFY_CONCURRENCY)
  const shared = engine.shared('verify', engine.timeouts.precheck * (rounds + 1) + engine.timeouts.stop)
  let next = 0
  const worker = async () => {
    while (next < targets.length) await check(targets[next++] as Target, shared)
  }
  await Promise.all(Array.from({ length: Math.min(VERIFY_CONCURRENCY, targets.length) }, worker)).finally(shared.dispose)

  // Stopping must not take the pool below minHealthy.
  const room = Math.max(0, targets.length - amountOf(engine.minHealthy, targets.length))
  const toStop = mismatched.slice(0, room)
  for (const target of mismatched.slice(room)) {
    engine.log.warn(`[rolling] ${describeTarget(target)} runs the wrong build but stopping it would leave fewer than minHealthy in service`, {
      target: target.id,
    })
  }
  await stopAll(engine, [...resumedStops, ...toStop])

  const problems: string[] = []
  if (mismatched.length > engine.maxStopped) {
    problems.push(`${mismatched.length} target(s) ran the wrong build, more than maxStopped (${engine.maxStopped})`)
  }
  if (unknown.length > 0) problems.push(`the build of ${unknown.length} target(s) could not be verified: ${unknown.slice(0, 5).join(', ')}`)
  return problems.length ? { failed: problems.join('; ') } : {}
}

function matches(build: RunningBuild, expected: { version: string; builtAt: string }): boolean {
  if (build.version !== expected.version) return false
  if (build.builtAt === undefined) return true
  return Date.parse(build.builtAt) === Date.parse(expected.builtAt) || build.builtAt === expected.builtAt
}

/** The running build, from `_status` when it says, else from the recipe's version step. */
async function runningBuild(engine: Engine, target: Target, shared: SharedContext): Promise<Observed> {
  const health = await engine.checkHealth(target, shared)
  if (health.version !== undefined) {
    return { build: health.builtAt === undefined ? { version: health.version } : { version: health.version, builtAt: health.builtAt }, source: '_status' }
  }
  const versionStep = engine.recipe.version
  if (!versionStep) return { source: 'none', error: `_status gave no version (${engine.describeHealth(health)}) and the recipe has no version step` }
  try {
    const build = await engine.withContext(`version of ${describeTarget(target)}`, engine.timeouts.stop, (ctx) => versionStep.call(engine.recipe, engine.stepArgs(target, ctx)), target)
    return { build, source: 'recipe' }
  } catch (error) {
    return { source: 'recipe', error: errorMessage(error) }
  }
}

/** Detaches the targets in one call, then runs the stop step on each. */
async function stopAll(engine: Engine, targets: readonly Target[]): Promise<void> {
  if (targets.length === 0) return
  for (const target of targets) engine.record(target, 'stopping')
  try {
    await engine.withContext(`detach of ${targets.length} target(s) from ${engine.lb.name}`, engine.timeouts.detach, (ctx) => engine.lb.detach(targets, ctx))
  } catch (error) {
    for (const target of targets) engine.settleOutcome(target, 'failed', `wrong build; detach failed: ${errorMessage(error)}`, 'stop')
    return
  }
  const stopStep = engine.recipe.stop
  await Promise.all(
    targets.map(async (target) => {
      try {
        if (stopStep) {
          await engine.timed(target, 'stop', () =>
            engine.withContext(`stop of ${describeTarget(target)}`, engine.timeouts.stop, (ctx) => stopStep.call(engine.recipe, engine.stepArgs(target, ctx)), target),
          )
        }
      } catch (error) {
        engine.settleOutcome(target, 'failed', `wrong build; detached, but the stop step failed: ${errorMessage(error)}`, 'stop')
        return
      }
      const reason = stopStep ? 'wrong build: detached and stopped' : 'wrong build: detached (the recipe has no stop step)'
      engine.settleOutcome(target, 'stopped', reason)
      engine.emitter.emit('target:stopped', { target, reason })
    }),
  )
}

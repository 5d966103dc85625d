// The verify phase, against the plan: after the last batch, discover again (autoscaling
// may have added hosts) and check each target in service runs the expected build and
// answers 200. Every planned target must be accounted for: in service on the new build,
// or skipped, failed or stopped and listed. Mismatches are stopped gracefully (detached,
// then the stop step); too many, or too few healthy in service, fail the rollout.
import type { Health, Target } from '../types.js'
import type { Engine, SharedContext } from '../engine.js'
import type { RunningBuild } from '../recipe.js'
import { ATTACHED } from '../engine.js'
import { describeBuild, sameTime } from '../build-seen.js'
import { amountOf } from '../plan.js'
import { describeTarget, errorMessage } from '../errors.js'
import { discoverAll } from '../discovery.js'
import { FLEET_CONCURRENCY, mapLimit } from '../pool.js'
import { eject, type Failing } from './eject.js'

export interface VerifyEnd {
  /** Why the rollout failed, if it did. */
  failed?: string
  /** With `verify.onMismatch: 'deploy'`: targets first seen here, on another build, to roll like the others. */
  late?: Target[]
}

type Observed = { build?: RunningBuild; source: string; error?: string; health: Health }

export async function verify(engine: Engine, planned: readonly Target[], resumedStops: readonly Target[] = []): Promise<VerifyEnd> {
  const { targets } = await engine.withContext(`discover on ${engine.lb.name}`, engine.timeouts.precheck, (ctx) => discoverAll(engine.lb, ctx))
  await engine.hook('beforeVerify', { targets })
  engine.write({ type: 'verify' })
  engine.emitter.emit('verify:start', { targets })
  const expected = { version: engine.artifact.version, builtAt: engine.artifact.builtAt }
  const mismatched: Target[] = []
  const unknown: string[] = []
  const unhealthy: Failing[] = []
  const healthy = new Set<string>()
  // One deadline bounds the phase: as long as every check taking its whole timeout.
  const rounds = Math.ceil(targets.length / FLEET_CONCURRENCY)
  const shared = engine.shared('verify', engine.timeouts.precheck * (rounds + 1) + engine.timeouts.stop)
  const check = async (target: Target) => {
    const report = engine.report(target, -1)
    const start = engine.clock.now()
    const observed = await runningBuild(engine, target, shared)
    engine.took(target, 'verify', start)
    if (observed.health.ok) healthy.add(target.id)
    else if (ATTACHED.has(report.outcome)) unhealthy.push({ target, reason: `unhealthy at verify: ${engine.describeHealth(observed.health)}` })
    if (!observed.build) {
      unknown.push(`${describeTarget(target)} (${observed.error})`)
      return
    }
    report.version = observed.build.version
    if (matches(observed.build, expected)) {
      if (report.outcome === 'pending') report.outcome = 'done'
      else if (report.outcome === 'unverified' && observed.health.ok) {
        engine.record(target, 'done')
        engine.setOutcome(target, 'done', `build confirmed by verify (${observed.source})`)
      }
      return
    }
    mismatched.push(target)
    engine.emitter.emit('verify:mismatch', { target, expected, actual: observed.build, source: observed.source })
  }
  await mapLimit(targets, FLEET_CONCURRENCY, check).finally(shared.dispose)

  // Late joiners (not planned, an autoscaling instance on an old image) are deployed, not
  // stopped, with `onMismatch: 'deploy'`; a planned target on another build is still stopped.
  const late = engine.control.onMismatch === 'deploy' ? mismatched.filter((t) => !engine.index.has(t.id)) : []
  const stopping = mismatched.filter((t) => !late.includes(t))
  // Stopping must not take the pool below minHealthy.
  const room = Math.max(0, targets.length - amountOf(engine.minHealthy, targets.length))
  const toStop = stopping.slice(0, room)
  for (const target of stopping.slice(room)) {
    engine.log.warn(`[rolling] ${describeTarget(target)} runs the wrong build but stopping it would leave fewer than minHealthy in service`, {
      target: target.id,
    })
  }
  await stopAll(engine, [...resumedStops, ...toStop])
  await eject(engine, unhealthy, -1, 'verify')

  const problems: string[] = []
  if (stopping.length > engine.maxStopped) {
    problems.push(`${stopping.length} target(s) ran the wrong build, more than maxStopped (${engine.maxStopped})`)
  }
  if (unknown.length > 0) problems.push(`the build of ${unknown.length} target(s) could not be verified: ${unknown.slice(0, 5).join(', ')}`)
  if (unhealthy.length > 0)
    problems.push(
      `${unhealthy.length} deployed target(s) unhealthy at verify: ${unhealthy
        .slice(0, 5)
        .map((u) => describeTarget(u.target))
        .join(', ')}`,
    )
  const gone = leftOut(engine, planned, new Set(targets.map((t) => t.id)))
  if (gone.length > 0) problems.push(`${gone.length} planned target(s) no longer in service: ${gone.slice(0, 5).map(describeTarget).join(', ')}`)
  const need = amountOf(engine.minHealthy, engine.planned)
  for (const target of toStop) healthy.delete(target.id)
  const healthyLeft = healthy.size
  if (healthyLeft < need) problems.push(`only ${healthyLeft} healthy target(s) in service at the end, fewer than minHealthy (${need})`)
  const end: VerifyEnd = late.length > 0 ? { late } : {}
  if (problems.length > 0) end.failed = problems.join('; ')
  return end
}

/** Planned targets this rollout left (or found) in service that are no longer there. */
function leftOut(engine: Engine, planned: readonly Target[], inService: ReadonlySet<string>): Target[] {
  const gone: Target[] = []
  for (const target of planned) {
    const report = engine.report(target, -1)
    if (inService.has(target.id) || !(ATTACHED.has(report.outcome) || report.outcome === 'pending')) continue
    gone.push(target)
    engine.needsHuman(target)
    engine.warn('left-out', target, `planned and ${report.outcome === 'pending' ? 'never reached' : `${report.outcome}`}, but no longer in service at verify`)
  }
  return gone
}

function matches(build: RunningBuild, expected: { version: string; builtAt: string }): boolean {
  if (build.version !== expected.version) return false
  return build.builtAt === undefined || sameTime(build.builtAt, expected.builtAt)
}

/** The running build, from `_status` when it says, else from the recipe's version step. */
async function runningBuild(engine: Engine, target: Target, shared: SharedContext): Promise<Observed> {
  const health = await engine.checkHealth(target, shared)
  if (health.version !== undefined && engine.settle.requireBuild) {
    return {
      build: health.builtAt === undefined ? { version: health.version } : { version: health.version, builtAt: health.builtAt },
      source: '_status',
      health,
    }
  }
  const versionStep = engine.recipe.version
  if (!versionStep) {
    const said = health.version === undefined ? 'gave no version' : `said ${describeBuild(health)} (not trusted: settle.requireBuild is off)`
    return { source: 'none', error: `_status ${said} (${engine.describeHealth(health)}) and the recipe has no version step`, health }
  }
  try {
    const build = await engine.withContext(
      `version of ${describeTarget(target)}`,
      engine.timeouts.stop,
      (ctx) => versionStep.call(engine.recipe, engine.stepArgs(target, ctx)),
      target,
    )
    return { build, source: 'recipe', health }
  } catch (error) {
    return { source: 'recipe', error: errorMessage(error), health }
  }
}

/** Detaches the targets in one call, then runs the stop step on each. */
async function stopAll(engine: Engine, targets: readonly Target[]): Promise<void> {
  if (targets.length === 0) return
  for (const target of targets) engine.record(target, 'stopping')
  await engine.durable()
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
            engine.withContext(
              `stop of ${describeTarget(target)}`,
              engine.timeouts.stop,
              (ctx) => stopStep.call(engine.recipe, engine.stepArgs(target, ctx)),
              target,
            ),
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

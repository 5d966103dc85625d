// Detach: the batch out of the load balancer in one call, with the engine's drain policy.
// What the load balancer reports per target decides the rest: found out by someone else's
// hand (skipped, never put back), not drained in time (put back on its old build, or its
// connections closed with `drain.onTimeout: 'proceed'`), or drained (deploy goes on).
import type { Engine } from '../engine.js'
import type { ExcludedTarget } from '../types.js'
import { describeTarget, errorMessage } from '../errors.js'
import { toDetachResult } from '../discovery.js'
import { type Flight, skip } from './flight.js'
import { restoreIfHealthy } from './rollback.js'

export interface Detached {
  /** Why no further batch may start, if so. */
  halt?: string
  /** Detached but not drained (`onTimeout: 'halt'`): to be put back on their old build. */
  undrained: Flight[]
}

export async function detach(engine: Engine, flights: Flight[], batch: number): Promise<Detached> {
  const targets = flights.map((f) => f.target)
  for (const target of targets) engine.emitter.emit('target:detaching', { target, batch })
  engine.recordAll(targets, 'detaching')
  await engine.durable()
  const start = engine.clock.now()
  let result: ReturnType<typeof toDetachResult>
  try {
    // The call's own deadline leaves room for the drain policy's timeout and its aftermath.
    const timeoutMs = Math.max(engine.timeouts.detach, (engine.drain.timeoutMs ?? 0) + engine.timeouts.precheck)
    // Resumed mid-detach: their being out of service may be this rollout's own doing.
    const resumed = flights.filter((f) => f.entry === 'detach').map((f) => f.target.id)
    result = toDetachResult(
      await engine.withContext(`detach of ${targets.length} target(s) from ${engine.lb.name}`, timeoutMs, (ctx) =>
        engine.lb.detach(targets, { ...ctx, drain: engine.drain, ...(resumed.length > 0 ? { resumedDetach: resumed } : {}) }),
      ),
    )
  } catch (error) {
    // How far the detach got is unknown; the targets still run the old build.
    const reason = `detach failed: ${errorMessage(error)}`
    engine.log.warn(`[rolling] ${reason}`, { batch })
    await Promise.all(flights.map((f) => restoreIfHealthy(engine, f, reason)))
    return { halt: `detach of batch ${batch + 1} (${names(targets)}) failed: ${errorMessage(error)}`, undrained: [] }
  }
  const ms = engine.clock.now() - start
  const byId = (list: ExcludedTarget[]) => new Map(list.map((e) => [e.target.id, e.reason]))
  const foreign = byId(result.foreign)
  const undrained = byId(result.undrained)
  const forced = byId(result.forced)
  const out: Flight[] = []
  const detached: Flight[] = []
  for (const f of flights) {
    engine.report(f.target, batch).timings.detach = ms
    const theirs = foreign.get(f.target.id)
    if (theirs !== undefined) {
      skip(engine, f, batch, `taken out of service by someone else (${theirs}): not deployed, left as found`, 'detach')
      continue
    }
    const left = undrained.get(f.target.id)
    if (left !== undefined) {
      f.attachAs = 'skipped'
      f.attachReason = `did not drain in time (${left}): put back in service on its old build`
      out.push(f)
      continue
    }
    const closed = forced.get(f.target.id)
    if (closed !== undefined) engine.warn('forced-drain', f.target, `did not drain in time; its remaining connections were closed (${closed})`)
    detached.push(f)
  }
  if (detached.length > 0)
    engine.recordAll(
      detached.map((f) => f.target),
      'detached',
    )
  for (const f of detached) engine.emitter.emit('target:detached', { target: f.target, batch })
  const halt = out.length > 0 ? `${out.map((f) => `${describeTarget(f.target)} ${f.attachReason}`).join('; ')}` : undefined
  return halt === undefined ? { undrained: out } : { halt, undrained: out }
}

function names(targets: readonly { id: string }[]): string {
  const shown = targets.slice(0, 5).map((t) => t.id)
  return targets.length > 5 ? `${shown.join(', ')} and ${targets.length - 5} more` : shown.join(', ')
}

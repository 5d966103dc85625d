// Attach: the batch's settled (or restored) targets back into the load balancer in one
// call. A target whose state someone else changed meanwhile is left as found and listed;
// with `settle.hold` the outcome waits for the hold (hold.ts).
import type { Engine } from '../engine.js'
import { describeBuild } from '../build-seen.js'
import { errorMessage } from '../errors.js'
import { toAttachResult } from '../discovery.js'
import { type Flight, fail } from './flight.js'

/** Attaches the flights; returns those that must now be held (`settle.hold`). */
export async function attach(engine: Engine, flights: Flight[], batch: number): Promise<Flight[]> {
  if (flights.length === 0) return []
  const targets = flights.map((f) => f.target)
  engine.write(...flights.map((f) => engine.entry(f.target, 'attaching', { o: f.attachAs })))
  for (const f of flights) engine.emitter.emit('target:attaching', { target: f.target, batch })
  const start = engine.clock.now()
  // What settle saw in this process, so the adapter need not wait for the same proof again.
  const seenHealthy = new Map<string, number>()
  for (const f of flights) {
    const at = engine.passedAt.get(f.target.id)
    if (at !== undefined && (f.attachAs === 'done' || f.attachAs === 'unverified')) seenHealthy.set(f.target.id, at)
  }
  let foreign: Map<string, string>
  try {
    const result = toAttachResult(
      await engine.withContext(`attach of ${targets.length} target(s) to ${engine.lb.name}`, engine.timeouts.attach, (ctx) =>
        engine.lb.attach(targets, seenHealthy.size > 0 ? { ...ctx, seenHealthy } : ctx),
      ),
    )
    foreign = new Map(result.foreign.map((e) => [e.target.id, e.reason]))
  } catch (error) {
    for (const f of flights) fail(engine, f, batch, 'attach', `attach failed: ${errorMessage(error)}`)
    return []
  }
  const ms = engine.clock.now() - start
  const held: Flight[] = []
  const finals: Flight[] = []
  const leftAsFound = new Set<Flight>()
  for (const f of flights) {
    engine.report(f.target, batch).timings.attach = ms
    const theirs = foreign.get(f.target.id)
    if (theirs !== undefined) {
      const what = f.attachAs === 'skipped' ? 'not deployed' : `deployed ${describeBuild(engine.artifact)}`
      f.attachAs = 'skipped'
      f.attachReason = `${what}, but someone else changed its state while it was out (${theirs}): left as found, not put back`
      engine.needsHuman(f.target)
      leftAsFound.add(f)
    } else if (engine.settle.hold > 0 && f.attachAs !== 'skipped' && f.attachAs !== 'restored') {
      held.push(f)
      continue
    }
    finals.push(f)
  }
  if (held.length > 0) engine.write(...held.map((f) => engine.entry(f.target, 'holding', { o: f.attachAs })))
  finish(engine, finals, batch, leftAsFound)
  for (const f of held) engine.emitter.emit('target:attached', { target: f.target, batch })
  return held
}

/** Journals and reports the final outcome of attached flights. */
export function finish(engine: Engine, flights: readonly Flight[], batch: number, notAttached: ReadonlySet<Flight> = new Set()): void {
  if (flights.length === 0) return
  engine.write(...flights.map((f) => engine.entry(f.target, f.attachAs ?? 'done')))
  for (const f of flights) {
    engine.setOutcome(f.target, f.attachAs ?? 'done', f.attachReason)
    if (!notAttached.has(f)) engine.attachedInOrder.push(f.target)
    f.over = true
    if (!notAttached.has(f)) engine.emitter.emit('target:attached', { target: f.target, batch })
    if (f.attachAs === 'rolled-back') engine.emitter.emit('target:rolled-back', { target: f.target, batch })
  }
}

// Hold (`settle.hold`, Nomad's min_healthy_time): after attach, a batch's targets must
// stay healthy this long before the batch counts. Checked every `settle.interval` (or
// every second); a target that fails is taken out again and the rollout halts.
import type { Engine } from '../engine.js'
import { describeTarget } from '../errors.js'
import type { Flight } from './flight.js'
import { finish } from './attach.js'
import { eject, type Failing } from './eject.js'
import { passes } from './settle.js'

const DEFAULT_HOLD_POLL_MS = 1000

/** Holds the attached flights; returns a halt reason when one failed. */
export async function hold(engine: Engine, flights: Flight[], batch: number): Promise<string | undefined> {
  if (flights.length === 0) return undefined
  const holdMs = engine.settle.hold
  const every = Math.min(engine.settle.interval ?? DEFAULT_HOLD_POLL_MS, holdMs)
  for (const f of flights) engine.emitter.emit('target:holding', { target: f.target, batch, holdMs })
  const start = engine.clock.now()
  const end = start + holdMs
  let watched = flights
  const failed: Failing[] = []
  const stop = engine.stops.child(engine.clock, undefined, 'hold')
  try {
    while (watched.length > 0) {
      const left = end - engine.clock.now()
      if (left <= 0) break
      try {
        await engine.clock.sleep(Math.min(every, left), stop.signal)
      } catch {
        break // aborted: what held so far stands; nothing new starts anyway
      }
      const shared = engine.shared(`hold check of batch ${batch + 1}`, engine.timeouts.precheck)
      const round = await Promise.all(watched.map(async (f) => ({ f, health: await engine.checkHealth(f.target, shared) }))).finally(shared.dispose)
      watched = []
      for (const { f, health } of round) {
        if (passes(engine, health)) {
          watched.push(f)
          engine.passedAt.set(f.target.id, engine.clock.now())
        } else
          failed.push({ target: f.target, reason: `unhealthy ${engine.clock.now() - start} ms into its ${holdMs} ms hold: ${engine.describeHealth(health)}` })
      }
    }
  } finally {
    stop.dispose()
  }
  for (const f of flights) engine.report(f.target, batch).timings.hold = engine.clock.now() - start
  finish(engine, watched, batch)
  if (failed.length === 0) return undefined
  for (const f of flights) if (failed.some((x) => x.target === f.target)) f.over = true
  await eject(engine, failed, batch, 'hold')
  return failed.map((x) => `${describeTarget(x.target)} ${x.reason}`).join('; ')
}

// The deadline of the whole rollout (`deadline: '45m'`): at it, a graceful abort with the
// rollout's abort semantics (nothing new starts, in-flight steps finish, healthy targets go
// back) and a reason that says so. It counts from the run's start, which a resumed run reads
// from its journal: a crash does not extend it.
import type { Engine } from '../engine.js'
import { formatSpan } from '../control-options.js'
import { MAX_TIMER_MS } from '../validate.js'

/** Arms the deadline; returns the function that disarms it. */
export function armDeadline(engine: Engine, startedAt: number): () => void {
  const ms = engine.control.deadlineMs
  if (ms === undefined) return () => {}
  const reason = `the rollout's deadline of ${formatSpan(ms)} passed (it started at ${new Date(startedAt).toISOString()})`
  let handle: ReturnType<typeof engine.clock.setTimeout> | undefined
  const arm = () => {
    const left = startedAt + ms - engine.clock.now()
    if (left <= 0) {
      engine.control.requestStop(reason)
      return
    }
    // No timer value above 2^31-1 ms reaches a clock; a longer wait re-arms.
    handle = engine.clock.setTimeout(arm, Math.min(left, MAX_TIMER_MS))
  }
  arm()
  return () => {
    if (handle !== undefined) engine.clock.clearTimeout(handle)
  }
}

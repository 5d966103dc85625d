// Ctrl-C during a rollout. The first one aborts gracefully (run.abort(): nothing new
// starts, in-flight steps finish, healthy targets go back) and says what it waits for;
// a second one stops at once (run.cancel(), exit 130), leaving the journal for `resume`.
import type { RolloutRun } from '@org/rolling-core'
import type { Reporter } from './reporters/reporter.js'
import type { InFlight } from './inflight.js'
import type { CliIo, InterruptSignal } from './io.js'
import { ExitCode } from './exit-codes.js'
import { type HintContext, hint } from './hints.js'

export interface Interrupts {
  /** Resolves with 130 on the second interrupt; never otherwise. */
  readonly stopped: Promise<number>
  /** Removes the signal listeners. */
  dispose(): void
}

export function watchInterrupts(run: RolloutRun, reporter: Reporter, inflight: InFlight, io: CliIo, journal: string, hints: HintContext): Interrupts {
  let count = 0
  let stop: (code: number) => void = () => {}
  const stopped = new Promise<number>((resolve) => {
    stop = resolve
  })
  const handlers = new Map<InterruptSignal, () => void>()
  const dispose = () => {
    for (const [signal, handler] of handlers) io.signals.off(signal, handler)
    handlers.clear()
  }
  const onSignal = (signal: InterruptSignal) => {
    const key = signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'
    count++
    if (count === 1) {
      reporter.notice(
        `${key}: aborting gracefully: nothing new starts, in-flight steps finish and healthy targets go back; ` +
          `waiting for ${inflight.describe()}. ${key} again stops at once.`,
      )
      run.abort(key)
      return
    }
    const message = `${key} again: stopping at once; the journal ${journal} is kept: run \`${hint(hints, 'resume')}\` to finish the rollout`
    if (reporter.interrupted) reporter.interrupted(message)
    else reporter.notice(message)
    dispose()
    // Cancel first: in-flight adapter calls (child processes, remote commands) are told to stop.
    run.cancel(`${key} twice`)
    stop(ExitCode.interrupted)
    // Exit before the engine records the run's end, so `resume` can pick it up.
    io.exit?.(ExitCode.interrupted)
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const handler = () => onSignal(signal)
    handlers.set(signal, handler)
    io.signals.on(signal, handler)
  }
  return { stopped, dispose }
}

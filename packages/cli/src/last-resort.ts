// The last resort during deploy and resume: an error no adapter caught (an 'error' emitted
// on an emitter nobody listens to, a rejection nobody awaits) would end the process with the
// batch out of the load balancer and nothing said. Instead: the journal is sealed (the
// engine writes each transition before it makes it, so nothing more happens), a `stop` is
// journalled, in-flight calls are cancelled, the lock is released only when no target is
// mid-step, the message says `rolling resume` finishes the rollout, and the exit is non-zero.
import { type Journal, type Lock, type LockLease, RollingError, type RolloutRun } from '@org/rolling-core'
import type { CliIo } from './io.js'
import { journalStatus } from './commands/journal-status.js'
import { ExitCode } from './exit-codes.js'
import { messageOf } from './errors.js'
import { type HintContext, hint } from './hints.js'

export interface LastResort {
  /** The journal and lock to give the rollout: sealed and held when the last resort fires. */
  readonly journal: Journal
  readonly lock: Lock
  /** Watches the process for escaped errors while `run` lasts; only where the CLI may exit. */
  watch(run: RolloutRun): void
  dispose(): void
}

export function lastResort(options: {
  io: CliIo
  command: 'deploy' | 'resume'
  hints: HintContext
  journal: Journal
  lock: Lock
  deadlineMs?: number
}): LastResort {
  const { io, command, journal: inner, lock: innerLock } = options
  let sealed = false
  // Settles once the handler knows whether the lock may go (no target mid-step).
  let decided: (release: boolean) => void = () => {}
  const decision = new Promise<boolean>((resolve) => {
    decided = resolve
  })
  let lease: LockLease | undefined
  const journal: Journal = {
    location: inner.location,
    read: () => inner.read(),
    reset: () => inner.reset(),
    close: () => inner.close(),
    // A journal that writes behind (S3) keeps its flush: the engine awaits it before a detach.
    ...(inner.flush ? { flush: () => (inner.flush as () => Promise<void>)() } : {}),
    append(...records) {
      if (sealed) throw new RollingError('JOURNAL', `[rolling] the run was stopped after an unexpected error; \`rolling resume\` finishes it`)
      inner.append(...records)
    },
  }
  const lock: Lock = {
    location: innerLock.location,
    inspect: (service) => innerLock.inspect(service),
    break: (service) => innerLock.break(service),
    async acquire(service, holder, options) {
      const own = await innerLock.acquire(service, holder, options)
      lease = own
      return {
        holder: own.holder,
        // The engine gives the lock back as it unwinds; after a stop, only if no target is mid-step.
        release: async () => {
          if (sealed && !(await decision)) return
          await own.release()
        },
      }
    },
  }
  let run: RolloutRun | undefined
  const onEscape = (error: unknown) => {
    if (sealed || !io.exit) return
    const exit = io.exit
    const reason = messageOf(error)
    inner.append({ type: 'stop', reason, at: new Date(io.now()).toISOString() })
    sealed = true
    // In-flight commands are told to stop; the sealed journal stops the engine's next step.
    try {
      run?.cancel(`unexpected error: ${reason}`)
    } catch {
      // Ending anyway.
    }
    const give = setTimeout(() => exit(ExitCode.failed), options.deadlineMs ?? 3000)
    give.unref()
    void settle()
      .catch((failure: unknown) => `the lock is kept (${messageOf(failure)})`)
      .then((done) => {
        io.stderr.write(
          `rolling ${command}: stopped by an unexpected error that no adapter handled: ${reason}\n` +
            `the journal ${inner.location} records the stop; ${done}; \`${hint(options.hints, 'resume')}\` finishes the rollout (\`${hint(options.hints, 'status')}\` shows where it stopped)\n`,
        )
        exit(ExitCode.failed)
      })
  }
  const settle = async (): Promise<string> => {
    const status = journalStatus(await inner.read(), inner.location)
    // A target mid-step must not be picked up by a fresh deploy: the lock stays for
    // `resume`, which breaks the lock of its own crashed run.
    if (status.outOfService.length > 0) {
      decided(false)
      return `the lock is kept: ${status.outOfService.map((t) => t.id).join(', ')} left mid-step`
    }
    decided(true)
    await lease?.release()
    return 'the lock is released (no target was mid-step)'
  }
  return {
    journal,
    lock,
    watch(watched) {
      run = watched
      if (!io.exit) return
      process.on('uncaughtException', onEscape)
      process.on('unhandledRejection', onEscape)
    },
    dispose() {
      process.off('uncaughtException', onEscape)
      process.off('unhandledRejection', onEscape)
    },
  }
}

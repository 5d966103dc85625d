// `rolling unlock`: breaks the lock of a service left by a rollout that died, and says who
// held it. A holder that is a live process on this host is most likely a rollout still
// running, and one on another host cannot be checked: both refused unless --force. A lock held
// by a lease (S3) says itself whether its holder is alive: stale once the lease has ended.
import { hostname } from 'node:os'
import { type Lock, type LockHolder, breakLock, isProcessAlive } from '@org/rolling-core'
import type { ParsedArgs } from '../args.js'
import type { CliIo } from '../io.js'
import { serviceState } from './service.js'
import { CliError } from '../errors.js'
import { ExitCode } from '../exit-codes.js'
import { safeLine } from '../safe-text.js'
import { hint, hintContext } from '../hints.js'

export async function unlockCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const state = await serviceState('unlock', args, io)
  try {
    return await unlock(state.service, state.lock, args, io)
  } finally {
    state.close()
  }
}

async function unlock(service: string, lock: Lock, args: ParsedArgs, io: CliIo): Promise<number> {
  const holder = await lock.inspect(service)
  if (!holder) {
    io.stdout.write(`${safeLine(`${service} is not locked (${lock.location})`)}\n`)
    return ExitCode.succeeded
  }
  const who = `run ${holder.runId} (pid ${holder.pid} on ${holder.host}) since ${holder.since}`
  if (holder.leaseUntil !== undefined) return unlockLease(service, lock, holder, who, args, io)
  const here = holder.host === hostname()
  const alive = here && isProcessAlive(holder.pid)
  // An empty or corrupt lock file (a crash while taking it) names no host: it is stale.
  const unreadable = holder.host === 'unknown' && holder.runId === 'unknown'
  const far = !here && !unreadable
  const force = `\`${hint(hintContext(args, io.env), 'unlock', ...(args.service === undefined ? [] : [args.service]), '--force')}\``
  if (alive && !args.force) {
    throw new CliError(
      `rolling unlock: ${service} is locked by ${who}, which is still running on this host; stop that rollout (Ctrl-C), or break the lock anyway with ${force}`,
      ExitCode.failed,
    )
  }
  // A process on another host cannot be probed from here: only a person can tell it is gone.
  if (far && !args.force) {
    throw new CliError(
      `rolling unlock: ${service} is locked by ${who}, on another host (this is ${hostname()}), which cannot be checked from here; make sure no rollout of ${service} runs there, then break the lock with ${force}`,
      ExitCode.failed,
    )
  }
  const broken = await breakLock(service, { lock })
  const was = broken ?? holder
  const note = alive
    ? 'its process was still running (--force)'
    : here
      ? 'its process was not running'
      : far
        ? 'it was on another host (--force)'
        : 'the lock file was empty or corrupt'
  io.stdout.write(`${safeLine(`broke the lock of ${service} held by run ${was.runId} (pid ${was.pid} on ${was.host}) since ${was.since}; ${note}`)}\n`)
  return ExitCode.succeeded
}

/** A lock held by a lease: live until its end (refused unless --force), stale after. */
async function unlockLease(service: string, lock: Lock, holder: LockHolder, who: string, args: ParsedArgs, io: CliIo): Promise<number> {
  const until = holder.leaseUntil as string
  const live = !(Date.parse(until) <= io.now())
  if (live && !args.force) {
    throw new CliError(
      `rolling unlock: ${service} is locked by ${who}, whose lease runs until ${until} (${lock.location}): it is most likely still running; stop it or wait for its lease to end, or pass --force to break the lock`,
      ExitCode.failed,
    )
  }
  const was = (await breakLock(service, { lock })) ?? holder
  const note = live ? `its lease ran until ${until} (--force): that run is fenced off at its next write` : `its lease had ended at ${until}`
  io.stdout.write(`${safeLine(`broke the lock of ${service} held by run ${was.runId} (pid ${was.pid} on ${was.host}) since ${was.since}; ${note}`)}\n`)
  return ExitCode.succeeded
}

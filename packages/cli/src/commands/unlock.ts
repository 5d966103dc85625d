// `rolling unlock`: breaks the lock of a service left by a rollout that died, and says who
// held it. A holder that is a live process on this host is most likely a rollout still
// running, and one on another host cannot be checked: both refused unless --force.
import { hostname } from 'node:os'
import { breakLock, isProcessAlive } from '@org/rolling-core'
import type { ParsedArgs } from '../args.js'
import type { CliIo } from '../io.js'
import { serviceState } from './service.js'
import { CliError } from '../errors.js'
import { ExitCode } from '../exit-codes.js'
import { safeLine } from '../safe-text.js'
import { hint, hintContext } from '../hints.js'

export async function unlockCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const { service, lock } = await serviceState('unlock', args, io)
  const holder = await lock.inspect(service)
  if (!holder) {
    io.stdout.write(`${safeLine(`${service} is not locked (${lock.location})`)}\n`)
    return ExitCode.succeeded
  }
  const who = `run ${holder.runId} (pid ${holder.pid} on ${holder.host}) since ${holder.since}`
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

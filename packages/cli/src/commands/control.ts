// `rolling approve` / `rolling abort`: reach a running rollout from another terminal or CI
// job through its control channel (a folder beside the journal, or the config's `control`).
// The run is the one holding the lock; approve needs it paused. Both wait a little for the
// rollout to record that it acted, and say whether it did.
import { randomBytes } from 'node:crypto'
import { openPause, releasedPauses, sender, type ControlMessage } from '@org/rolling-core'
import type { ParsedArgs } from '../args.js'
import type { CliIo } from '../io.js'
import { type ServiceState, serviceState } from './service.js'
import { CliError } from '../errors.js'
import { ExitCode } from '../exit-codes.js'

/** How long the command waits for the rollout to record that it acted on the message. */
export const ACK_WAIT_MS = 15_000
const ACK_POLL_MS = 200

export async function controlCommand(kind: 'approve' | 'abort', args: ParsedArgs, io: CliIo): Promise<number> {
  const state = await serviceState(kind, args, io)
  try {
    return await send(kind, state, args, io)
  } finally {
    state.close()
  }
}

async function send(kind: 'approve' | 'abort', state: ServiceState, args: ParsedArgs, io: CliIo): Promise<number> {
  const { service, lock, journal, control } = state
  const holder = await lock.inspect(service)
  if (!holder) throw new CliError(`rolling ${kind}: no rollout of ${service} is running (no lock in ${lock.location}); nothing sent`, ExitCode.failed)
  const records = await journal.read()
  const start = records[0]
  const runId = holder.runId
  if (start?.type === 'start' && start.runId !== runId) {
    throw new CliError(
      `rolling ${kind}: the lock of ${service} is held by run ${runId} but the journal ${journal.location} is of run ${String(start.runId)}; nothing sent`,
      ExitCode.failed,
    )
  }
  const paused = openPause(records)
  if (kind === 'approve' && !paused) {
    throw new CliError(
      `rolling approve: run ${runId} of ${service} is not paused; nothing sent (it pauses where \`pause\` says, then waits for this)`,
      ExitCode.failed,
    )
  }
  const message: ControlMessage = {
    id: `m-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
    kind,
    runId,
    at: new Date(io.now()).toISOString(),
    by: sender(io.env),
    ...(args.note === undefined ? {} : { note: args.note }),
  }
  await control.send(service, message)
  const where = paused ? ` (paused after batch ${paused.index + 1})` : ''
  io.stdout.write(`${kind === 'approve' ? 'approval' : 'abort'} sent to run ${runId} of ${service}${where} through ${control.location}\n`)
  // The rollout journals the release of a pause; an abort between batches ends the run.
  const acted = async () => {
    const now = await journal.read()
    if (now.some((r) => r.type === 'end')) return true
    return paused ? releasedPauses(now).has(paused.index) : false
  }
  for (const until = Date.now() + ACK_WAIT_MS; Date.now() < until; ) {
    if (await acted()) {
      io.stdout.write(kind === 'approve' ? `run ${runId} goes on\n` : `run ${runId} is aborting: in-flight steps finish, healthy targets go back\n`)
      return ExitCode.succeeded
    }
    await new Promise((resolve) => setTimeout(resolve, ACK_POLL_MS))
  }
  if (kind === 'abort' && !paused) {
    io.stdout.write(`run ${runId} will abort at its next batch boundary\n`)
    return ExitCode.succeeded
  }
  throw new CliError(
    `rolling ${kind}: run ${runId} did not act on the message within ${ACK_WAIT_MS / 1000}s; is its process alive (pid ${holder.pid} on ${holder.host})?`,
    ExitCode.failed,
  )
}

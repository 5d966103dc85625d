// Pause and approve: between two batches the rollout waits, every target in service, until
// `rolling approve` / `rolling abort` (through the control channel), `run.approve()` /
// `run.abort()` in the API, or the pause's timeout. The pause and its release are journal
// records, so a resumed rollout pauses again where an unreleased pause was.
import { hostname, userInfo } from 'node:os'
import type { Clock, Logger } from './types.js'
import type { ControlChannel, ControlMessage } from './control.js'
import type { JournalRecord, StoredRecord } from './journal.js'
import type { ResolvedPause } from './control-options.js'
import { errorMessage } from './errors.js'

/** How a pause ended. */
export type PauseRelease = 'approved' | 'aborted' | 'timeout'

export interface PauseEnd {
  how: PauseRelease
  /** Who released it (user@host, a CI job), when known. */
  by?: string
  note?: string
  /** At the timeout: what `pause.onTimeout` chose. */
  next: 'continue' | 'abort'
}

/** Polls of the control channel while paused. */
export const CONTROL_POLL_MS = 1000

/** In-process approvals (`run.approve()`): resolves the pause under way, if any. */
export class ApprovalBox {
  #waiting: ((end: { how: 'approved' | 'aborted'; by?: string; note?: string }) => void) | undefined
  /** True while a pause waits. */
  get paused(): boolean {
    return this.#waiting !== undefined
  }
  /** Releases the pause under way; false when the rollout is not paused. */
  release(how: 'approved' | 'aborted', by?: string, note?: string): boolean {
    const waiting = this.#waiting
    if (!waiting) return false
    this.#waiting = undefined
    waiting({ how, ...(by === undefined ? {} : { by }), ...(note === undefined ? {} : { note }) })
    return true
  }
  wait(): Promise<{ how: 'approved' | 'aborted'; by?: string; note?: string }> {
    return new Promise((resolve) => {
      this.#waiting = resolve
    })
  }
  cancel(): void {
    this.#waiting = undefined
  }
}

export interface PauseDeps {
  service: string
  runId: string
  clock: Clock
  log: Logger
  control: ControlChannel | undefined
  approvals: ApprovalBox
  write(...records: JournalRecord[]): void
  /** Aborted on a graceful abort: the pause ends as `aborted`. */
  stopSignal: AbortSignal
  /** Id of the last control message seen, so none is acted on twice. */
  seen: { last?: string }
}

/**
 * Waits for the release of the pause after batch `index`. Never rejects for a control
 * channel that cannot be read (it is logged, and the timeout still applies); a graceful abort
 * ends it as `aborted`.
 */
export async function pauseFor(deps: PauseDeps, index: number, pause: ResolvedPause, resumedUntil?: number): Promise<PauseEnd> {
  const { clock } = deps
  // A resumed pause keeps the end it was given: a crash does not extend it.
  const until = resumedUntil ?? clock.now() + pause.timeout
  deps.write({ type: 'pause', i: index, at: new Date(clock.now()).toISOString(), until: new Date(until).toISOString() })
  const stop = new AbortController()
  const inProcess = deps.approvals.wait()
  const onAbort = () => stop.abort()
  deps.stopSignal.addEventListener('abort', onAbort, { once: true })
  if (deps.stopSignal.aborted) stop.abort()
  const fromChannel = (async (): Promise<PauseEnd | undefined> => {
    let warned = false
    while (!stop.signal.aborted) {
      if (deps.control) {
        try {
          const message = await nextMessage(deps)
          if (message)
            return { how: message.kind === 'approve' ? 'approved' : 'aborted', next: message.kind === 'approve' ? 'continue' : 'abort', ...who(message) }
          warned = false
        } catch (error) {
          if (!warned) deps.log.warn(`[rolling] paused, but the control channel ${deps.control.location} cannot be read: ${errorMessage(error)}`)
          warned = true
        }
      }
      const left = until - clock.now()
      if (left <= 0) return { how: 'timeout', next: pause.onTimeout === 'approve' ? 'continue' : 'abort' }
      try {
        await clock.sleep(Math.min(CONTROL_POLL_MS, left), stop.signal)
      } catch {
        return undefined
      }
    }
    return undefined
  })()
  let end: PauseEnd
  try {
    const first = await Promise.race([
      inProcess.then((r): PauseEnd => ({ ...r, next: r.how === 'approved' ? 'continue' : 'abort' })),
      fromChannel,
      abortOf(stop.signal),
    ])
    end = first ?? { how: 'aborted', next: 'abort', note: 'the rollout was aborted' }
  } finally {
    stop.abort()
    deps.approvals.cancel()
    deps.stopSignal.removeEventListener('abort', onAbort)
  }
  deps.write({
    type: 'release',
    i: index,
    how: end.how,
    at: new Date(clock.now()).toISOString(),
    ...(end.by ? { by: end.by } : {}),
    ...(end.note ? { note: end.note } : {}),
  })
  return end
}

function abortOf(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined)
    else signal.addEventListener('abort', () => resolve(undefined), { once: true })
  })
}

/** The first unseen message for this run, marking everything read as seen. */
async function nextMessage(deps: PauseDeps): Promise<ControlMessage | undefined> {
  const control = deps.control as ControlChannel
  const messages = await control.receive(deps.service, deps.seen.last === undefined ? undefined : { after: deps.seen.last })
  for (const message of messages) {
    deps.seen.last = message.id
    if (message.runId === deps.runId) return message
  }
  return undefined
}

/** Marks every message already in the channel as seen: a message from an earlier run is never acted on. */
export async function skipOldMessages(deps: Pick<PauseDeps, 'control' | 'service' | 'seen' | 'log'>): Promise<void> {
  if (!deps.control) return
  try {
    const old = await deps.control.receive(deps.service)
    const last = old.at(-1)
    if (last) deps.seen.last = last.id
  } catch (error) {
    deps.log.warn(`[rolling] the control channel ${deps.control.location} cannot be read: ${errorMessage(error)}`)
  }
}

/** An abort sent for this run (`rolling abort`) while it is not paused, checked between batches. */
export async function abortRequested(deps: PauseDeps): Promise<PauseEnd | undefined> {
  if (!deps.control) return undefined
  try {
    const messages = await deps.control.receive(deps.service, deps.seen.last === undefined ? undefined : { after: deps.seen.last })
    for (const message of messages) {
      if (message.runId !== deps.runId) {
        deps.seen.last = message.id
        continue
      }
      // An approval that arrives early is left for the pause it is meant for.
      if (message.kind === 'approve') break
      deps.seen.last = message.id
      return { how: 'aborted', next: 'abort', ...who(message) }
    }
  } catch (error) {
    deps.log.warn(`[rolling] the control channel ${deps.control.location} cannot be read: ${errorMessage(error)}`)
  }
  return undefined
}

function who(message: ControlMessage): { by?: string; note?: string } {
  return { ...(message.by ? { by: message.by } : {}), ...(message.note ? { note: message.note } : {}) }
}

/** Batches (0-based) whose pause the journal shows released. */
export function releasedPauses(records: readonly StoredRecord[]): Set<number> {
  const released = new Set<number>()
  for (const r of records) if (r.type === 'release' && typeof r.i === 'number') released.add(r.i)
  return released
}

/** The batch (0-based) paused after and not released, when the journal ends inside a pause. */
export function openPause(records: readonly StoredRecord[]): { index: number; at: string; until: string } | undefined {
  let open: { index: number; at: string; until: string } | undefined
  for (const r of records) {
    if (r.type === 'pause' && typeof r.i === 'number') open = { index: r.i, at: String(r.at), until: String(r.until) }
    else if (r.type === 'release' && r.i === open?.index) open = undefined
  }
  return open
}

/** `user@host` (`ROLLING_ACTOR` names a CI job or a person), for control messages. */
export function sender(env: Readonly<Record<string, string | undefined>> = process.env): string {
  let user = 'unknown'
  try {
    user = userInfo().username
  } catch {
    // no passwd entry (containers)
  }
  return `${env.ROLLING_ACTOR ?? user}@${hostname()}`
}

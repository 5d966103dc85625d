// The control channel: how a person or another job reaches a running (or paused) rollout
// from outside its process: `rolling approve` / `rolling abort`. A file folder locally, an
// S3 prefix across machines (@org/rolling-s3); the engine polls it on its own clock. And the
// StateStore that keeps it with the lock and the journals in one place.
import type { AdapterContext } from './types.js'
import type { Journal } from './journal.js'
import type { Lock } from './lock.js'

export interface ControlMessage {
  /** Unique per message, so a message is acted on once. */
  id: string
  kind: 'approve' | 'abort'
  /** The run it is meant for; a message for another run is ignored. */
  runId: string
  /** ISO-8601 time it was sent. */
  at: string
  /** Who sent it (user@host, a CI job), for the journal and the reports. */
  by?: string
  note?: string
}

/**
 * A store of the rollout state shared by whoever reaches it: the lock, each service's journal
 * and the control channel in one place (a state folder; an S3 prefix with `s3State`). The CLI's
 * `--state` / config `state` takes one.
 */
export interface StateStore {
  /** Where it lives, for messages (a folder, `s3://bucket/prefix`). */
  readonly location: string
  readonly lock: Lock
  journal(service: string): Journal
  readonly control: ControlChannel
  /** Closes what the store opened (an S3 client). */
  destroy?(): void
}

export interface ControlChannel {
  /** Where it lives, for messages (a folder, `s3://bucket/prefix`). */
  readonly location: string
  send(service: string, message: ControlMessage, ctx?: Partial<AdapterContext>): Promise<void>
  /** Messages for `service` in the order sent, optionally only those after the one with id `after`. */
  receive(service: string, options?: { after?: string }, ctx?: Partial<AdapterContext>): Promise<ControlMessage[]>
}

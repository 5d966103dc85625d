// Errors of the SSH executor: core's RollingError with code ADAPTER, plus a `reason` that
// says which part failed, so callers can tell a refused host key from a dropped connection.
import { RollingError, type ErrorCode } from '@org/rolling-core'

export type SshFailure =
  /** The server's host key is not the one known for it: nothing was sent to it. */
  | 'host-key'
  /** The server refused every credential offered. */
  | 'auth'
  /** TCP connect, handshake or the bastion hop failed (after the retries). */
  | 'connect'
  /** The connection dropped while a command ran: it may have run, and it is not re-run. */
  | 'connection-lost'
  /** The server refused to open a channel or start the command. */
  | 'channel'
  /** An SFTP upload failed. */
  | 'upload'

export class SshError extends RollingError {
  readonly reason: SshFailure
  constructor(reason: SshFailure, message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? 'ADAPTER', message, options)
    this.name = 'SshError'
    this.reason = reason
  }
}

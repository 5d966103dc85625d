// Errors carry a stable `code` users can branch on, a message that names the
// adapter and the target, and the original `cause`.

export type ErrorCode =
  | 'INVALID_OPTION'
  | 'EMPTY_POOL'
  | 'ABORTED'
  | 'TIMEOUT'
  | 'WAIT_FAILED'
  | 'ARTIFACT_NOT_FOUND'
  | 'ARTIFACT_INTEGRITY'
  | 'EXEC_TIMEOUT'
  | 'EXEC_FAILED'
  | 'LOCKED'
  | 'LOCK_LOST'
  | 'JOURNAL'
  | 'HOOK_VETO'
  | 'ADAPTER'

export class RollingError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RollingError'
    this.code = code
  }
}

/** Bad input; the message names the option and the value. */
export class ValidationError extends RollingError {
  readonly option: string
  constructor(option: string, message: string) {
    super('INVALID_OPTION', `[rolling] invalid option \`${option}\`: ${message}`)
    this.name = 'ValidationError'
    this.option = option
  }
}

/** Cancellation is its own class so callers can tell it from a failure. */
export class AbortError extends RollingError {
  constructor(message = '[rolling] aborted', options?: { cause?: unknown }) {
    super('ABORTED', message, options)
    this.name = 'AbortError'
  }
}

export class TimeoutError extends RollingError {
  /** The last thing the waiter observed before the deadline. */
  readonly lastObserved: unknown
  constructor(message: string, lastObserved?: unknown, options?: { cause?: unknown }) {
    super('TIMEOUT', message, options)
    this.name = 'TimeoutError'
    this.lastObserved = lastObserved
  }
}

export function isAbortError(error: unknown): boolean {
  return error instanceof AbortError || (error instanceof Error && (error.name === 'AbortError' || (error as { code?: string }).code === 'ABORT_ERR'))
}

/** The reason of an aborted signal as an Error (a signal may be aborted with any value). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  if (reason instanceof Error) return reason
  return new AbortError(typeof reason === 'string' ? `[rolling] aborted: ${reason}` : '[rolling] aborted')
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal)
}

/** Renders a target for messages: `web-1 (127.0.0.2:8080)`. */
export function describeTarget(target: { id: string; address: string; port?: number }): string {
  const host = target.address.includes(':') ? `[${target.address}]` : target.address
  const where = target.port === undefined ? target.address : `${host}:${target.port}`
  return target.id === where ? target.id : `${target.id} (${where})`
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

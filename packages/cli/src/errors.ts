// Errors the CLI reports itself: one line for the user and the exit code that goes with it.
// Anything else that escapes a command is an unexpected failure (exit 1).
import { ExitCode, type ExitCodeValue } from './exit-codes.js'

export class CliError extends Error {
  readonly exitCode: ExitCodeValue
  constructor(message: string, exitCode: ExitCodeValue, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** A flag, a command or an argument the CLI does not accept. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.badConfig)
    this.name = 'UsageError'
  }
}

/** A config file that cannot be found, loaded or used; the message names the file. */
export class ConfigError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.badConfig, options)
    this.name = 'ConfigError'
  }
}

/** A core ValidationError, recognised by shape: the config may load its own copy of core. */
export function isValidationError(error: unknown): error is Error & { option: string; code: 'INVALID_OPTION' } {
  return error instanceof Error && (error as { code?: unknown }).code === 'INVALID_OPTION' && typeof (error as { option?: unknown }).option === 'string'
}

/** The `expected ..., got ...` part of a ValidationError's message. */
export function validationDetail(error: Error & { option: string }): string {
  const prefix = `[rolling] invalid option \`${error.option}\`: `
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The exit code for an error that ended a command: its own, 4 for an invalid option, else 1. */
export function exitCodeOfError(error: unknown): ExitCodeValue {
  if (error instanceof CliError) return error.exitCode
  if (isValidationError(error)) return ExitCode.badConfig
  return ExitCode.failed
}

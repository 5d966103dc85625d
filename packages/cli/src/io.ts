// What the CLI talks to: its output streams, working directory, environment, clock, signals
// and exit. `main` takes them as arguments so tests run it in-process on buffers.
import type { Writable } from 'node:stream'
import type { ReporterContext } from './reporters/reporter.js'
import { guardInput, guardOutput, lostOutputNotice } from './output.js'

export type InterruptSignal = 'SIGINT' | 'SIGTERM'

/** Where interrupts come from; `process` is one. */
export interface SignalSource {
  on(signal: InterruptSignal, listener: () => void): unknown
  off(signal: InterruptSignal, listener: () => void): unknown
}

export interface CliIo {
  /** @default process.stdout */
  stdout: ReporterContext['out']
  /** @default process.stderr */
  stderr: Writable
  /** Keys for the terminal view. @default process.stdin */
  stdin?: ReporterContext['input']
  /** @default process.cwd() */
  cwd: string
  /** @default process.env */
  env: Readonly<Record<string, string | undefined>>
  /** @default Date.now */
  now: () => number
  /** Ctrl-C and SIGTERM during deploy and resume. @default process */
  signals: SignalSource
  /**
   * Ends the process at once (the second Ctrl-C), before the rollout can record its end, so
   * the journal is left for `resume`. @default process.exit; in-process callers may leave it
   * out and get the code from `main` instead.
   */
  exit?: (code: number) => void
}

/**
 * The process's own streams, guarded: output that goes away (a closed pipe, a full disk, a
 * closed terminal) is dropped rather than ending the process mid-rollout (see output.ts).
 */
export function processIo(): CliIo {
  const stderr = guardOutput(process.stderr, 'stderr', () => {})
  return {
    stdout: guardOutput(process.stdout, 'stdout', lostOutputNotice(stderr)),
    stderr,
    stdin: guardInput(process.stdin),
    cwd: process.cwd(),
    env: process.env,
    now: Date.now,
    signals: process,
    exit: (code) => process.exit(code),
  }
}

/** `io` with its defaults: the process's own streams and environment. */
export function resolveIo(io: Partial<CliIo>): CliIo {
  const resolved: CliIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    cwd: io.cwd ?? process.cwd(),
    env: io.env ?? process.env,
    now: io.now ?? Date.now,
    signals: io.signals ?? process,
  }
  // Keys are read from the process's terminal only when the output goes to it too.
  const stdin = 'stdin' in io ? io.stdin : io.stdout === undefined ? process.stdin : undefined
  if (stdin) resolved.stdin = stdin
  if (io.exit) resolved.exit = io.exit
  return resolved
}

// The contract between the CLI and its reporters. The CLI starts the rollout, hands every
// event to each active reporter (several at once: e.g. the terminal view and a Markdown
// summary), tells them what it is doing itself (signals), and waits for them to finish.
import type { Writable } from 'node:stream'
import type { Plan, RolloutEvent, RolloutResult } from '@org/rolling-core'

export interface ReporterContext {
  /** The command running: reporters word their output by it. */
  command: 'deploy' | 'resume'
  service: string
  /** Where the reporter writes (process.stdout in the CLI; a pseudo-terminal or a buffer in tests). */
  out: Writable & { isTTY?: boolean; columns?: number; rows?: number }
  /** Keys typed by the user, when interactive (process.stdin in raw mode). */
  input?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown }
  /** Colours and cursor movement allowed (TTY, NO_COLOR unset). */
  color: boolean
  /** Wall-clock milliseconds, injectable for tests. */
  now: () => number
  /** `--strict`: a succeeded result with warnings exits 6; reporters that print the exit code say so. */
  strict?: boolean
  /** The command that shows this run again, when a bare `rolling status` here would not find it (--config, --state-dir). */
  statusHint?: string
  /** The run in this process, for a view that takes keys: release a pause, or abort. */
  control?: { approve(note?: string): boolean; abort(reason?: string): void }
}

export interface Reporter {
  /** Every event of the run, in order, as `run.subscribe()` delivers it. */
  event(event: RolloutEvent): void
  /** A message from the CLI itself, e.g. "Ctrl-C: aborting; waiting for web-1 to finish deploying". */
  notice(message: string): void
  /** The run ended: print the summary, restore the terminal, flush files. */
  end(result: RolloutResult): void | Promise<void>
  /** The run could not start (bad config, lock held): restore the terminal. */
  fail?(error: unknown): void | Promise<void>
  /**
   * The run is left unfinished (a second Ctrl-C): say `message` and restore the terminal now,
   * synchronously, for the process exits right after. Without it, the CLI calls `notice`.
   */
  interrupted?(message: string): void
}

export type ReporterFactory = (ctx: ReporterContext) => Reporter

/** `rolling plan` output is not a stream of events: reporters that render it take the Plan. */
export type PlanPrinter = (plan: Plan, ctx: ReporterContext) => void

// Which reporters a run gets: JSON lines with --json; otherwise the terminal view when
// stdout is a terminal and CI is not set (--plain and --tty force either way), else plain
// lines; plus the Markdown summary for $GITHUB_STEP_SUMMARY and/or --summary <file>.
import { resolve } from 'node:path'
import type { Reporter, ReporterContext, ReporterFactory } from './reporter.js'
import { messageOf } from '../errors.js'

export interface ReporterChoice {
  json?: boolean
  plain?: boolean
  tty?: boolean
  /** `--summary <file>`. */
  summary?: string
  /** `--output`: show the hosts' command output. */
  output?: boolean
}

export type ReporterKind = 'json' | 'tty' | 'plain'

/** The kind of the main reporter for these flags and this terminal. */
export function reporterKind(choice: ReporterChoice, out: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): ReporterKind {
  if (choice.json) return 'json'
  if (choice.tty) return 'tty'
  if (choice.plain) return 'plain'
  // CI runners often give a pseudo-terminal; a redrawn view makes an unreadable log there.
  return out.isTTY && !isCi(env) ? 'tty' : 'plain'
}

export function isCi(env: Readonly<Record<string, string | undefined>>): boolean {
  const ci = env.CI
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false'
}

/** The reporters to run, main one first; only those are loaded (the terminal view's text-width tables cost a start-up). */
export async function selectReporters(
  choice: ReporterChoice,
  out: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<ReporterFactory[]> {
  const kind = reporterKind(choice, out, env)
  const factories: ReporterFactory[] = [
    kind === 'json'
      ? (await import('./json.js')).jsonReporter
      : kind === 'tty'
        ? (await import('./tty/index.js')).createTtyReporter({ showOutput: choice.output ?? false })
        : (await import('./plain.js')).plainReporter({ output: choice.output ?? false }),
  ]
  const step = env.GITHUB_STEP_SUMMARY
  if (step || choice.summary !== undefined) {
    const { markdownSummary } = await import('./markdown.js')
    if (step) factories.push(markdownSummary({ path: step, append: true }))
    if (choice.summary !== undefined) factories.push(markdownSummary({ path: resolve(cwd, choice.summary) }))
  }
  return factories
}

/**
 * One reporter in front of several. A reporter that throws must not break the run or
 * silence the others: its error goes to `onError` and the rest carry on.
 */
export function combineReporters(factories: readonly ReporterFactory[], ctx: ReporterContext, onError: (error: unknown) => void): Reporter {
  const reporters = factories.map((factory) => factory(ctx))
  const each = (fn: (reporter: Reporter) => void) => {
    for (const reporter of reporters) {
      try {
        fn(reporter)
      } catch (error) {
        onError(error)
      }
    }
  }
  const settle = async (fn: (reporter: Reporter) => void | Promise<void>) => {
    const results = await Promise.allSettled(reporters.map(async (reporter) => fn(reporter)))
    for (const result of results) if (result.status === 'rejected') onError(result.reason)
  }
  return {
    event: (event) => each((reporter) => reporter.event(event)),
    notice: (message) => each((reporter) => reporter.notice(message)),
    end: (result) => settle((reporter) => reporter.end(result)),
    fail: (error) => settle((reporter) => reporter.fail?.(error)),
    interrupted: (message) =>
      each((reporter) => {
        if (reporter.interrupted) reporter.interrupted(message)
        else reporter.notice(message)
      }),
  }
}

export function reporterError(error: unknown): string {
  return `rolling: a reporter failed: ${messageOf(error)}`
}

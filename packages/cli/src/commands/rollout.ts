// `rolling deploy` and `rolling resume`: load the config, apply the flags, start the
// rollout (or resume it from the journal), feed its events to the reporters, handle
// Ctrl-C, and turn the way it ended into the exit code.
import { join } from 'node:path'
import { type RolloutOptions, type RolloutResult, type RolloutRun, fileControl, fileJournal, fileLock, resume, rollout, sender } from '@org/rolling-core'
import type { ParsedArgs } from '../args.js'
import type { CliIo } from '../io.js'
import type { ReporterContext } from '../reporters/reporter.js'
import { loadConfig } from '../config/load.js'
import { configErrorOf, rolloutOptions } from '../config/options.js'
import { combineReporters, reporterError, reporterKind, selectReporters } from '../reporters/select.js'
import { otelReporter } from '../reporters/otel.js'
import { InFlight } from '../inflight.js'
import { watchInterrupts } from '../interrupts.js'
import { lastResort } from '../last-resort.js'
import { exitCodeOfResult } from '../exit-codes.js'
import { exitCodeOfError, isValidationError, messageOf } from '../errors.js'
import { safeText } from '../safe-text.js'
import { completeHints, hint, hintContext, needsStateFlags } from '../hints.js'
import { stateFor } from '../state.js'

export async function rolloutCommand(command: 'deploy' | 'resume', args: ParsedArgs, io: CliIo): Promise<number> {
  const loaded = await loadConfig({ cwd: io.cwd, command, env: io.env, ...(args.config === undefined ? {} : { explicit: args.config }) })
  const options = rolloutOptions(loaded, {
    cwd: io.cwd,
    flags: args.rollout,
    flagOf: args.flagOf,
    ...(args.stateDir === undefined ? {} : { stateDir: args.stateDir }),
  })
  // A shared store (`--state s3://…`, config `state`) holds the lock and this service's journal.
  const opened = await stateFor(loaded, args)
  if (opened) {
    options.lock = opened.store.lock
    options.journal = opened.store.journal(options.service)
  }
  const journal = options.journal?.location ?? join(options.stateDir as string, `${options.service}.journal.jsonl`)
  const kind = reporterKind(args, io.stdout, io.env)
  const strict = args.strict || loaded.config.strict === true
  const hints = hintContext(args, io.env)
  const ctx: ReporterContext = {
    command,
    strict,
    service: options.service,
    out: io.stdout,
    color: kind === 'tty' && !io.env.NO_COLOR,
    now: io.now,
    ...(io.stdin ? { input: io.stdin } : {}),
    // A bare `rolling status` here would look beside another config: say which command finds this run.
    ...(needsStateFlags(hints) ? { statusHint: hint(hints, 'status') } : {}),
    // The terminal view's `a` / `x` keys during a pause; the run starts below.
    control: {
      approve: (note) => started?.approve(note, sender(io.env)) ?? false,
      abort: (reason) => started?.abort(reason),
    },
  }
  let started: RolloutRun | undefined
  const factories = await selectReporters(args, io.stdout, io.env, io.cwd)
  if (args.otel) factories.push(await otelReporter(io))
  const reporter = combineReporters(factories, ctx, (error) =>
    io.stderr.write(`${safeText(reporterError(error))}
`),
  )

  // The engine's own defaults, built here so the last resort can seal them.
  const guard = lastResort({
    io,
    command,
    hints,
    journal: options.journal ?? fileJournal(journal),
    lock: options.lock ?? fileLock({ dir: options.stateDir as string }),
  })
  // The lock is always given here, so the core would not make the folder channel itself:
  // the same default as `rolling approve` / `rolling abort` (commands/service.ts); a shared
  // store (`--state`) has its own, where they send from any machine.
  const control = opened?.store.control ?? options.control ?? fileControl({ dir: options.stateDir as string })
  let run: RolloutRun
  try {
    run = start(command, { ...options, journal: guard.journal, lock: guard.lock, control })
  } catch (error) {
    opened?.close()
    throw error
  }
  started = run
  // Closed once the run has ended, however this command returns (it may go on winding down).
  run.result.then(
    () => opened?.close(),
    () => opened?.close(),
  )
  const inflight = new InFlight()
  const unsubscribe = run.subscribe((event) => {
    inflight.update(event)
    reporter.event(event)
  })
  const interrupts = watchInterrupts(run, reporter, inflight, io, journal, hints)
  guard.watch(run)
  type Ending = { result: RolloutResult } | { error: unknown } | { code: number }
  try {
    const ending: Ending = await Promise.race([
      run.result.then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      ),
      interrupts.stopped.then((code) => ({ code })),
    ])
    if ('code' in ending) {
      // The run goes on winding down in this process when `io.exit` did not end it; nobody listens.
      unsubscribe()
      run.result.catch(() => {})
      return ending.code
    }
    if ('error' in ending) {
      const error = isValidationError(ending.error) ? configErrorOf(ending.error, loaded.shown, args.flagOf) : ending.error
      // The engine's and the adapters' suggestions (`rolling unlock app`) as they work from here.
      if (error instanceof Error) error.message = completeHints(error.message, hints)
      await reporter.fail?.(error)
      // JSON lines are for programs; a person reading the terminal still gets the message.
      if (kind === 'json') io.stderr.write(`rolling ${command}: ${safeText(messageOf(error))}\n`)
      return exitCodeOfError(error)
    }
    await reporter.end(ending.result)
    return exitCodeOfResult(ending.result, strict)
  } finally {
    interrupts.dispose()
    guard.dispose()
  }
}

function start(command: 'deploy' | 'resume', options: RolloutOptions): RolloutRun {
  if (command === 'deploy') return rollout(options)
  // The build and the batches of a resumed run come from its journal.
  const { batch: _batch, version: _version, ...rest } = options
  return resume(rest)
}

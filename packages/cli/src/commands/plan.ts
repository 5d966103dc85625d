// `rolling plan`: a dry run. Resolves the build and discovers the targets through the
// config's adapters, then prints the batches and settings; nothing is detached, deployed,
// locked or journalled.
import { type Plan, plan, resolveVerify } from '@org/rolling-core'
import type { ParsedArgs } from '../args.js'
import type { CliIo } from '../io.js'
import { loadConfig } from '../config/load.js'
import { configErrorOf, rolloutOptions } from '../config/options.js'
import { planJson, planText } from '../reporters/plan.js'
import { CliError, isValidationError } from '../errors.js'
import { ExitCode } from '../exit-codes.js'

/** How long the dry run may take to resolve the build and discover the targets. */
export const PLAN_DEADLINE_MS = 60_000

export async function planCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const loaded = await loadConfig({ cwd: io.cwd, command: 'plan', env: io.env, ...(args.config === undefined ? {} : { explicit: args.config }) })
  const options = rolloutOptions(loaded, {
    cwd: io.cwd,
    flags: args.rollout,
    flagOf: args.flagOf,
    ...(args.stateDir === undefined ? {} : { stateDir: args.stateDir }),
  })
  const deadline = new AbortController()
  const timer = setTimeout(
    () => deadline.abort(new CliError(`rolling plan: no answer from the adapters within ${PLAN_DEADLINE_MS / 1000}s`, ExitCode.failed)),
    PLAN_DEADLINE_MS,
  )
  let result: Plan
  try {
    // The signal reaches every adapter call; the race covers an adapter that ignores it.
    result = await Promise.race([
      plan({ ...options, signal: deadline.signal }),
      new Promise<never>((_, reject) => deadline.signal.addEventListener('abort', () => reject(deadline.signal.reason), { once: true })),
    ])
  } catch (error) {
    // batchSizes() checks minHealthy against the discovered pool: a bad value, reported as such.
    if (isValidationError(error)) throw configErrorOf(error, loaded.shown, args.flagOf)
    throw error
  } finally {
    clearTimeout(timer)
  }
  const extras = { verify: resolveVerify(options.verify).run, minHealthy: options.minHealthy ?? 0, redeploy: options.redeploy ?? false }
  const ctx = { command: 'deploy' as const, service: options.service, out: io.stdout, color: false, now: io.now }
  ;(args.json ? planJson(extras) : planText(extras))(result, ctx)
  return ExitCode.succeeded
}

// Turns a loaded config and the command-line flags into the core's rollout options:
// flags override the file, relative paths are resolved, and everything is validated
// once here so a bad value is reported with its source (the file or the flag).
import { dirname, resolve } from 'node:path'
import { DEFAULT_STATE_DIR, type RolloutOptions, type SettleOptions, validateOptions } from '@org/rolling-core'
import { showValue } from '@org/rolling-core/adapter'
import type { RolloutFlags } from '../args.js'
import { CLI_SET_KEYS, CONFIG_KEYS, type RollingConfig } from './define.js'
import type { LoadedConfig } from './load.js'
import { ConfigError, isValidationError, validationDetail } from '../errors.js'

export interface BuildOptions {
  cwd: string
  /** `--state-dir`, as typed (relative to the working directory). */
  stateDir?: string
  flags: RolloutFlags
  /** Rollout option (e.g. `settle.delay`) -> the flag that set it (e.g. `--settle 10s`). */
  flagOf: ReadonlyMap<string, string>
}

/** The folder of the journal and the lock: `--state-dir`, else the config's (beside the file), else `.rolling` beside the file. */
export function stateDirOf(loaded: Pick<LoadedConfig, 'file' | 'config' | 'shown'> | undefined, cwd: string, flag?: string): string {
  if (flag !== undefined) return resolve(cwd, flag)
  const base = loaded ? dirname(loaded.file) : cwd
  const configured: unknown = loaded?.config.stateDir
  // A stateDir of '' or 42 is a mistake to report, not a reason to fall back to the default.
  if (configured !== undefined && (typeof configured !== 'string' || configured === '')) {
    throw new ConfigError(`${loaded?.shown ?? 'config'}: \`stateDir\` expected a folder path, got ${showValue(configured)}`)
  }
  return resolve(base, configured ?? DEFAULT_STATE_DIR)
}

/** Rollout options from the config file with the flags applied; throws a ConfigError naming the source of a bad value. */
export function rolloutOptions(loaded: LoadedConfig, options: BuildOptions): RolloutOptions {
  const { config, shown } = loaded
  // Any other unknown key is refused by the core's validation below, with a suggestion.
  for (const key of Object.keys(config)) {
    if ((CLI_SET_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(`${shown}: option \`${key}\` cannot be set in a config (the CLI sets it); the options are ${CONFIG_KEYS.join(', ')}`)
    }
  }
  const { flags } = options
  // `strict` and `state` are the CLI's (the exit code; the store it opens): core refuses options it does not know.
  const { strict, state: _state, ...rest } = config
  if (strict !== undefined && typeof strict !== 'boolean') throw new ConfigError(`${shown}: \`strict\` expected a boolean, got ${JSON.stringify(strict)}`)
  const merged: RollingConfig = { ...rest, stateDir: stateDirOf(loaded, options.cwd, options.stateDir) }
  if (flags.version !== undefined) merged.version = flags.version
  if (flags.batch !== undefined) merged.batch = flags.batch
  if (flags.minHealthy !== undefined) merged.minHealthy = flags.minHealthy
  if (flags.onFailure !== undefined) merged.onFailure = flags.onFailure
  if (flags.maxStopped !== undefined) merged.maxStopped = flags.maxStopped
  if (flags.verify !== undefined) merged.verify = flags.verify
  if (flags.redeploy !== undefined) merged.redeploy = flags.redeploy
  if (flags.onMismatch !== undefined) {
    if (merged.verify === false) throw new ConfigError('--on-mismatch: verify is off (--no-verify or `verify: false`), so no target is checked for its build')
    merged.verify = { ...(typeof merged.verify === 'object' ? merged.verify : {}), onMismatch: flags.onMismatch }
  }
  if (flags.maxFailures !== undefined) merged.maxFailures = flags.maxFailures
  if (flags.deadline !== undefined) merged.deadline = flags.deadline
  if (flags.bake !== undefined) merged.bake = flags.bake
  if (flags.pauseAfter !== undefined) {
    // The flag names the batches; the file's timeout and onTimeout stay.
    const base = typeof config.pause === 'object' && config.pause !== null ? config.pause : {}
    merged.pause = { ...base, after: flags.pauseAfter }
  }
  if (flags.settleDelay !== undefined || flags.settleInterval !== undefined || flags.settleDeadline !== undefined) {
    // Flags change single settle fields; the file's other settle fields stay.
    const base = typeof config.settle === 'object' && config.settle !== null ? config.settle : {}
    const settle: SettleOptions = { ...base }
    if (flags.settleDelay !== undefined) settle.delay = flags.settleDelay
    if (flags.settleInterval !== undefined) settle.interval = flags.settleInterval
    if (flags.settleDeadline !== undefined) settle.deadline = flags.settleDeadline
    merged.settle = settle
  }
  const rollout = merged as RolloutOptions
  check(() => validateOptions(rollout), shown, options.flagOf)
  return rollout
}

/** Runs a validation; a ValidationError becomes a ConfigError worded by where the value came from. */
export function check<T>(validate: () => T, shown: string, flagOf: ReadonlyMap<string, string>): T {
  try {
    return validate()
  } catch (error) {
    if (isValidationError(error)) throw configErrorOf(error, shown, flagOf)
    throw error
  }
}

export function configErrorOf(error: Error & { option: string }, shown: string, flagOf: ReadonlyMap<string, string>): ConfigError {
  const detail = validationDetail(error)
  const flag = flagOf.get(error.option) ?? flagOf.get(error.option.replace(/\[\d+\]$/, ''))
  // `unknown option batchSize: did you mean batch?` names the option itself.
  const named = detail.startsWith('[rolling] ') ? detail.slice('[rolling] '.length) : `\`${error.option}\` ${detail}`
  return new ConfigError(`${flag ?? shown}: ${named}`, { cause: error })
}

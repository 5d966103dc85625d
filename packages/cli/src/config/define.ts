// What a rollout.config.ts exports: the core's rollout options (minus what only a running
// process can supply: the abort signal, the clock, the run id), or a function that builds
// them, and `defineConfig`, which only gives the file its types (as Vite's does).
import { OPTION_KEYS, type RolloutOptions, type StateStore } from '@org/rolling-core'

/** The options a config file sets: `RolloutOptions` without `signal`, `clock` and `runId`, and the CLI's own. */
export type RollingConfig = Omit<RolloutOptions, 'signal' | 'clock' | 'runId'> & {
  /**
   * Exit 6 instead of 0 when a rollout succeeds with warnings (targets skipped, excluded by an
   * operator, unverified, no longer in service, drained by force). The CLI's own option, as `--strict`.
   * @default false
   */
  strict?: boolean
  /**
   * Where the lock, the journals and the control channel live when not in the state folder: an
   * `s3://bucket/prefix` URL (needs @org/rolling-s3), or a store such as `s3State({ bucket, prefix })`.
   * The CLI's own option, as `--state`; exclusive with `stateDir`, `lock` and `journal`.
   * @default the state folder (`stateDir`)
   * @example 's3://my-bucket/rolling/'
   */
  state?: string | StateStore
}

/** The command the config is loaded for. */
export type CliCommand = 'plan' | 'deploy' | 'resume' | 'status' | 'unlock' | 'approve' | 'abort'

/** What a config function receives. */
export interface ConfigEnv {
  command: CliCommand
  /** The environment variables of the CLI process. */
  env: Readonly<Record<string, string | undefined>>
  /** The directory the CLI runs in. */
  cwd: string
  /** The config file's own path. */
  file: string
}

/** A config object, or a function (possibly async) returning one. */
export type ConfigExport = RollingConfig | ((env: ConfigEnv) => RollingConfig | Promise<RollingConfig>)

type Builder = (env: ConfigEnv) => RollingConfig | Promise<RollingConfig>
/** The keys of `T` that are no option: each must then be a string naming it, which no value is. */
type Unknown<T> = Exclude<keyof T, keyof RollingConfig>
type Refused<K extends PropertyKey> = { [P in K]: `unknown option \`${P & string}\`` }
type KnownKeys<F> = F extends (...args: never[]) => infer R ? ([Unknown<Awaited<R>>] extends [never] ? unknown : Refused<Unknown<Awaited<R>>>) : unknown

/**
 * Types a config file's default export; returns it unchanged. An unknown key (`batchs`) is a
 * type error, in an object and in what a config function returns, as a wrong value type is.
 * @example
 * export default defineConfig({ service: 'checkout', loadBalancer, artifacts, executor, deploy, batch: '25%' })
 * export default defineConfig(async ({ env }) => ({ ...base, version: env.BUILD ?? 'latest' }))
 */
// An object literal gets TypeScript's own excess-property check (nested options too); a
// function's return value gets none, so its keys are checked by KnownKeys.
export function defineConfig(config: RollingConfig): RollingConfig
export function defineConfig<F extends Builder>(config: F & KnownKeys<F>): F
export function defineConfig(config: ConfigExport): ConfigExport {
  return config
}

/** Options only a running process supplies (the CLI sets them); a config cannot. */
export const CLI_SET_KEYS = ['signal', 'clock', 'runId'] as const

type ConfigKey = Exclude<(typeof OPTION_KEYS)[number], (typeof CLI_SET_KEYS)[number]> | 'strict' | 'state'

/**
 * Every option a config may set: the core's list less what the CLI sets. Another key is a
 * typo (`batchs`) and is refused by the core's validation, with a suggestion.
 */
export const CONFIG_KEYS: readonly ConfigKey[] = [
  ...OPTION_KEYS.filter((key): key is Exclude<ConfigKey, 'strict' | 'state'> => !(CLI_SET_KEYS as readonly string[]).includes(key)),
  // The CLI's own: it shapes the exit code (`--strict`); it opens the state store (`--state`).
  'strict',
  'state',
]

// What a rollout.config.ts exports: the core's rollout options (minus what only a running
// process can supply: the abort signal, the clock, the run id), or a function that builds
// them, and `defineConfig`, which only gives the file its types (as Vite's does).
import type { RolloutOptions } from '@org/rolling-core'

/** The options a config file sets: `RolloutOptions` without `signal`, `clock` and `runId`, and the CLI's own. */
export type RollingConfig = Omit<RolloutOptions, 'signal' | 'clock' | 'runId'> & {
  /**
   * Exit 6 instead of 0 when a rollout succeeds with warnings (targets skipped, excluded by an
   * operator, unverified, no longer in service, drained by force). The CLI's own option, as `--strict`.
   * @default false
   */
  strict?: boolean
}

/** The command the config is loaded for. */
export type CliCommand = 'plan' | 'deploy' | 'resume' | 'status' | 'unlock'

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

/**
 * Types a config file's default export; returns it unchanged.
 * @example
 * export default defineConfig({ service: 'checkout', loadBalancer, artifacts, executor, deploy, batch: '25%' })
 * export default defineConfig(async ({ env }) => ({ ...base, version: env.BUILD ?? 'latest' }))
 */
export function defineConfig<T extends ConfigExport>(config: T): T {
  return config
}

/**
 * Every option a config may set. A key outside this list is a typo (`batchs`) and is
 * refused rather than silently ignored.
 */
export const CONFIG_KEYS = [
  'service',
  'loadBalancer',
  'artifacts',
  'executor',
  'deploy',
  'healthCheck',
  'version',
  'batch',
  'minHealthy',
  'settle',
  'drain',
  'onFailure',
  'maxStopped',
  'redeploy',
  'verify',
  'timeouts',
  'hooks',
  'logger',
  'stateDir',
  'journal',
  'lock',
  'strict',
] as const satisfies readonly (keyof RollingConfig)[]

// Fails to compile when core adds an option this list lacks.
type Missing = Exclude<keyof RollingConfig, (typeof CONFIG_KEYS)[number]>
const complete: [Missing] extends [never] ? true : Missing = true
void complete

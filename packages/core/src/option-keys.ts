// The keys of each rollout options object, written once: what validation accepts and
// what the CLI's config accepts (minus what only a running process sets).
import type { DrainOptions, RolloutOptions, SettleOptions } from './options.js'
import type { PauseOptions, VerifyOptions } from './control-options.js'
import type { ZonePlan } from './plan.js'

// A key outside them is a typo and is refused with a suggestion, never ignored.
export const OPTION_KEYS = [
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
  'signal',
  'clock',
  'logger',
  'stateDir',
  'journal',
  'lock',
  'runId',
  'gates',
  'bake',
  'pause',
  'control',
  'zones',
  'maxFailures',
  'deadline',
] as const satisfies readonly (keyof RolloutOptions)[]
export const SETTLE_KEYS = ['delay', 'interval', 'deadline', 'successes', 'requireBuild', 'hold'] as const satisfies readonly (keyof SettleOptions)[]
export const DRAIN_KEYS = ['timeout', 'onTimeout'] as const satisfies readonly (keyof DrainOptions)[]
export const PAUSE_KEYS = ['after', 'timeout', 'onTimeout'] as const satisfies readonly (keyof PauseOptions)[]
export const ZONE_KEYS = ['label', 'maxPerZone', 'minHealthy'] as const satisfies readonly (keyof ZonePlan)[]
export const VERIFY_KEYS = ['onMismatch'] as const satisfies readonly (keyof VerifyOptions)[]

// Fail to compile when an option is added without its key.
type Complete<T, K> = [Exclude<keyof T, K>] extends [never] ? true : Exclude<keyof T, K>
const complete: [
  Complete<RolloutOptions, (typeof OPTION_KEYS)[number]>,
  Complete<SettleOptions, (typeof SETTLE_KEYS)[number]>,
  Complete<DrainOptions, (typeof DRAIN_KEYS)[number]>,
  Complete<PauseOptions, (typeof PAUSE_KEYS)[number]>,
  Complete<ZonePlan, (typeof ZONE_KEYS)[number]>,
  Complete<VerifyOptions, (typeof VERIFY_KEYS)[number]>,
] = [true, true, true, true, true, true]
void complete

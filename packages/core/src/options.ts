// Rollout options: their types with defaults documented, the defaults, and the
// one validation pass at the entry point. The caller's object is never mutated.
import type { ArtifactStore, Clock, Executor, HealthCheck, LoadBalancer, Logger } from './types.js'
import type { DeployFunction, DeployRecipe } from './recipe.js'
import type { Hooks } from './hooks.js'
import type { Journal } from './journal.js'
import type { Lock } from './lock.js'
import { checkKeys, checkMs, failOption } from './validate.js'
import { DRAIN_KEYS, OPTION_KEYS, SETTLE_KEYS } from './option-keys.js'
import { type ControlOptions, type VerifyOptions, validateControl } from './control-options.js'

/** A count of targets, or a percentage of the candidates such as `'25%'` (rounded up). */
export type Amount = number | `${number}%`

export interface SettleOptions {
  /**
   * Wait this long after the deploy before the first `_status` check.
   * @default 60_000 (0 when `interval` is set)
   */
  delay?: number
  /** Poll `_status` at this interval instead of checking once. @example 500 */
  interval?: number
  /** With polling: give up this long after the deploy. @default max(delay, 120_000) */
  deadline?: number
  /** With polling: consecutive passing checks needed. @default 1 */
  successes?: number
  /**
   * Pass only on the build being deployed, when the health check reports one (`version`,
   * `builtAt`): a 200 from another build fails settle (`still running v1`). Turn off for
   * apps whose `_status` reports something other than the deployed build.
   * @default true
   */
  requireBuild?: boolean
  /**
   * After attach, a batch's targets must stay healthy this long (checked every `interval`,
   * or every second) before the batch counts; a failure takes the target out again and
   * halts. Nomad's `min_healthy_time`. @default 0
   */
  hold?: number
}

export interface DrainOptions {
  /** How long a detach waits for connections to drain. @default the load balancer adapter's own */
  timeout?: number
  /**
   * At the timeout: `'halt'` puts the undrained target back in service on its old build, lists
   * it, lets its drained batch-mates go on and starts no further batch; `'proceed'` closes the
   * remaining connections the load balancer's way, warns, and deploys.
   * @default 'halt'
   */
  onTimeout?: 'halt' | 'proceed'
}

export interface Timeouts {
  /** Pre-deploy `_status` check of a target. @default 10_000 */
  precheck: number
  /** Detach of a batch, connection draining included. @default 900_000 */
  detach: number
  /** The deploy step of one target. @default 1_800_000 */
  deploy: number
  /** Attach of a batch, until the load balancer sees it healthy. @default 600_000 */
  attach: number
  /** Stop or rollback step of one target. @default 300_000 */
  stop: number
  /** After an abort, how long a freshly deployed target may take to answer 200. @default 10_000 */
  abortGrace: number
  /** A gate still undecided (`wait`) after this long fails. @default 1_800_000 */
  gate: number
}

export interface RolloutOptions extends ControlOptions {
  /** The service to deploy; names the lock and the journal. @example 'checkout' */
  service: string
  loadBalancer: LoadBalancer
  artifacts: ArtifactStore
  executor: Executor
  /** What deploying a target means: a recipe, or a function (that may return commands to run). */
  deploy: DeployRecipe | DeployFunction
  /** @default httpHealthCheck() (GET http://address:port/_status) */
  healthCheck?: HealthCheck
  /** Build to deploy. @default 'latest' */
  version?: string
  /**
   * Targets per batch: a count, a percentage, or a schedule whose last entry repeats.
   * @default 1
   * @example [1, '10%', '50%', '100%']
   */
  batch?: Amount | readonly Amount[]
  /** Targets that must stay in service; caps each batch to `candidates - minHealthy`. @default 0 */
  minHealthy?: Amount
  settle?: SettleOptions
  /** Connection draining at detach. */
  drain?: DrainOptions
  /** What happens to a target whose new build fails its check. @default 'halt' */
  onFailure?: 'halt' | 'rollback'
  /** Verify phase: more targets on the wrong build than this fails the rollout. @default 3 */
  maxStopped?: number
  /**
   * Deploy targets whose health check already reports the build being deployed. Off, they
   * are skipped (`already on v2`) without being detached, so a re-run after a halt only
   * touches what is left. @default false
   */
  redeploy?: boolean
  /** Run the verify phase after the last batch (`false` skips it), and what it does with a target on another build. @default true ({ onMismatch: 'stop' }) */
  verify?: boolean | VerifyOptions
  timeouts?: Partial<Timeouts>
  hooks?: Hooks
  /** Graceful abort: start nothing new, finish in-flight steps, put healthy targets back. */
  signal?: AbortSignal
  /** @default systemClock */
  clock?: Clock
  logger?: Logger
  /** Folder of the default file journal and lock. @default '.rolling' */
  stateDir?: string
  /** @default fileJournal(`${stateDir}/${service}.journal.jsonl`) */
  journal?: Journal
  /** @default fileLock({ dir: stateDir }) */
  lock?: Lock
  /** @default a random id */
  runId?: string
}

export interface ResolvedSettle {
  delay: number
  interval: number | undefined
  deadline: number
  successes: number
  requireBuild: boolean
  hold: number
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  precheck: 10_000,
  detach: 900_000,
  deploy: 1_800_000,
  attach: 600_000,
  stop: 300_000,
  abortGrace: 10_000,
  gate: 1_800_000,
}

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

function fail(option: string, expected: string, value: unknown): never {
  return failOption(option, expected, value)
}

/** Checks a count or percentage; `allowZero` for minHealthy. */
export function checkAmount(option: string, value: unknown, allowZero: boolean): Amount {
  const min = allowZero ? 0 : 1
  const countOrPercentage = `a count (an integer >= ${min}) or a percentage like '25%'`
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < min) fail(option, countOrPercentage, value)
    return value
  }
  if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)%$/.exec(value)
    // 'two', '2', '25 %': not a percentage at all; say what the option takes.
    if (!match) fail(option, countOrPercentage, value)
    const pct = Number((match as RegExpExecArray)[1])
    if (!(pct >= (allowZero ? 0 : Number.MIN_VALUE) && pct <= 100)) {
      fail(option, `a percentage ${allowZero ? "from '0%'" : "above '0%'"} up to '100%'`, value)
    }
    return value as Amount
  }
  return fail(option, countOrPercentage, value)
}

function checkTimer(option: string, value: unknown, min: number): number {
  return checkMs(option, value, { min })
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function checkAdapter(option: string, value: unknown, methods: readonly string[]): void {
  if (!isObject(value)) fail(option, `an adapter with ${methods.map((m) => `${m}()`).join(', ')}`, value)
  for (const method of methods) {
    if (typeof value[method] !== 'function') fail(`${option}.${method}`, 'a function', value[method])
  }
}

export const HOOK_NAMES = ['beforeBatch', 'afterBatch', 'beforeTarget', 'afterDeploy', 'beforeAttach', 'beforeVerify'] as const

/** Validates everything that can be checked before touching anything; throws ValidationError. */
export function validateOptions(options: RolloutOptions): void {
  if (!isObject(options)) fail('options', 'an object', options)
  checkKeys('', options, OPTION_KEYS)
  if (typeof options.service !== 'string' || !SERVICE_NAME.test(options.service)) {
    fail('service', 'a name of letters, digits, `.`, `_` or `-`', options.service)
  }
  checkAdapter('loadBalancer', options.loadBalancer, ['discover', 'detach', 'attach'])
  checkAdapter('artifacts', options.artifacts, ['resolve', 'locate'])
  checkAdapter('executor', options.executor, ['run'])
  if (options.healthCheck !== undefined) checkAdapter('healthCheck', options.healthCheck, ['check'])
  const deploy = options.deploy as unknown
  if (typeof deploy !== 'function' && !(isObject(deploy) && typeof deploy.deploy === 'function')) {
    fail('deploy', 'a function or a recipe with a deploy() step', deploy)
  }
  if (options.version !== undefined && (typeof options.version !== 'string' || options.version.trim() === '')) {
    fail('version', "'latest' or a version name", options.version)
  }
  if (options.batch !== undefined) {
    if (Array.isArray(options.batch)) {
      if (options.batch.length === 0) fail('batch', "a non-empty schedule like [1, '10%', '50%']", options.batch)
      options.batch.forEach((entry, i) => {
        checkAmount(`batch[${i}]`, entry, false)
      })
    } else {
      checkAmount('batch', options.batch, false)
    }
  }
  if (options.minHealthy !== undefined) checkAmount('minHealthy', options.minHealthy, true)
  if (options.settle !== undefined) {
    if (!isObject(options.settle)) fail('settle', 'an object like { delay: 60000 }', options.settle)
    checkKeys('settle', options.settle, SETTLE_KEYS)
    const { delay, interval, deadline, successes, requireBuild, hold } = options.settle as SettleOptions
    if (requireBuild !== undefined && typeof requireBuild !== 'boolean') fail('settle.requireBuild', 'a boolean', requireBuild)
    if (hold !== undefined) checkTimer('settle.hold', hold, 0)
    if (delay !== undefined) checkTimer('settle.delay', delay, 0)
    if (interval !== undefined) checkTimer('settle.interval', interval, 1)
    if (deadline !== undefined) checkTimer('settle.deadline', deadline, 1)
    if (successes !== undefined && (!Number.isInteger(successes) || successes < 1)) {
      fail('settle.successes', 'an integer >= 1', successes)
    }
    if ((deadline !== undefined || successes !== undefined) && interval === undefined) {
      fail('settle.interval', 'a polling interval when settle.deadline or settle.successes is set', interval)
    }
    if (deadline !== undefined && delay !== undefined && deadline < delay) {
      fail('settle.deadline', `a deadline >= settle.delay (${delay})`, deadline)
    }
  }
  if (options.drain !== undefined) {
    if (!isObject(options.drain)) fail('drain', "an object like { timeout: 300000, onTimeout: 'halt' }", options.drain)
    checkKeys('drain', options.drain, DRAIN_KEYS)
    const { timeout, onTimeout } = options.drain as DrainOptions
    if (timeout !== undefined) checkTimer('drain.timeout', timeout, 1)
    if (onTimeout !== undefined && onTimeout !== 'halt' && onTimeout !== 'proceed') fail('drain.onTimeout', "'halt' or 'proceed'", onTimeout)
  }
  if (options.redeploy !== undefined && typeof options.redeploy !== 'boolean') fail('redeploy', 'a boolean', options.redeploy)
  if (options.onFailure !== undefined && options.onFailure !== 'halt' && options.onFailure !== 'rollback') {
    fail('onFailure', "'halt' or 'rollback'", options.onFailure)
  }
  if (options.onFailure === 'rollback' && (typeof deploy === 'function' || typeof (deploy as { rollback?: unknown }).rollback !== 'function')) {
    fail('onFailure', "a deploy recipe with a rollback() step when onFailure is 'rollback'", options.onFailure)
  }
  if (options.maxStopped !== undefined && (!Number.isInteger(options.maxStopped) || options.maxStopped < 0)) {
    fail('maxStopped', 'an integer >= 0', options.maxStopped)
  }
  if (options.timeouts !== undefined) {
    if (!isObject(options.timeouts)) fail('timeouts', 'an object', options.timeouts)
    checkKeys('timeouts', options.timeouts, Object.keys(DEFAULT_TIMEOUTS))
    for (const [key, value] of Object.entries(options.timeouts)) {
      if (value !== undefined) checkTimer(`timeouts.${key}`, value, 1)
    }
  }
  if (options.hooks !== undefined) {
    if (!isObject(options.hooks)) fail('hooks', 'an object of hook functions', options.hooks)
    checkKeys('hooks', options.hooks, HOOK_NAMES)
    for (const [key, value] of Object.entries(options.hooks)) {
      if (value !== undefined && typeof value !== 'function') fail(`hooks.${key}`, 'a function', value)
    }
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) fail('signal', 'an AbortSignal', options.signal)
  if (options.clock !== undefined) checkAdapter('clock', options.clock, ['now', 'sleep', 'setTimeout', 'clearTimeout'])
  if (options.journal !== undefined) checkAdapter('journal', options.journal, ['append', 'read', 'reset'])
  if (options.lock !== undefined) checkAdapter('lock', options.lock, ['acquire'])
  if (options.stateDir !== undefined && (typeof options.stateDir !== 'string' || options.stateDir === '')) {
    fail('stateDir', 'a folder path', options.stateDir)
  }
  if (options.runId !== undefined && (typeof options.runId !== 'string' || !SERVICE_NAME.test(options.runId))) {
    fail('runId', 'an id of letters, digits, `.`, `_` or `-`', options.runId)
  }
  validateControl(options, checkAmount)
}

export function resolveSettle(settle: SettleOptions | undefined): ResolvedSettle {
  const interval = settle?.interval
  const delay = settle?.delay ?? (interval === undefined ? 60_000 : 0)
  return {
    delay,
    interval,
    deadline: settle?.deadline ?? Math.max(delay, 120_000),
    successes: settle?.successes ?? 1,
    requireBuild: settle?.requireBuild ?? true,
    hold: settle?.hold ?? 0,
  }
}

// The options of rollout control (issue 13): gates and their bake, pause and approve, zones,
// the failure budget, the deadline of the whole rollout, and late joiners. Their types,
// defaults and validation live here; options.ts holds the rest and calls `validateControl`.
import type { Amount } from './options.js'
import type { Gate } from './gates/gate.js'
import type { ZonePlan } from './plan.js'
import type { ControlChannel } from './control.js'
import { checkKeys, checkMs, failOption } from './validate.js'
import { formatMs } from './clock.js'
import { PAUSE_KEYS, VERIFY_KEYS, ZONE_KEYS } from './option-keys.js'
import { amountOf } from './plan.js'

export interface PauseOptions {
  /**
   * After which batches (1-based: `[1]` is after the canary) the rollout waits for
   * `rolling approve`, or `'every-batch'` (every batch but the last).
   */
  after: readonly number[] | 'every-batch'
  /** How long a pause may last. @default 86_400_000 (24 h) */
  timeout?: number
  /** At the timeout: abort (the rollout's abort semantics) or go on. @default 'abort' */
  onTimeout?: 'abort' | 'approve'
}

export interface VerifyOptions {
  /**
   * A target verify finds on another build (an autoscaling instance launched from an old
   * image): `'stop'` detaches and stops it (the design's default); `'deploy'` rolls it like
   * any other target (batches, health, attach). `maxStopped` counts only those that fail.
   * @default 'stop'
   */
  onMismatch?: 'stop' | 'deploy'
}

/** The control options of `RolloutOptions`. */
export interface ControlOptions {
  /**
   * Checked after each batch is attached and before the next detaches, and once at the end;
   * a failing gate halts (or, with `onFailure: 'rollback'`, rolls back the last batch).
   * @example [cloudwatchAlarms({ names: ['checkout-5xx'] }), httpGate({ url })]
   */
  gates?: readonly Gate[]
  /** Keep watching each gate this long before it passes (a gate's own `bake` wins). @default 0 */
  bake?: number
  /** Wait for approval after some batches, with every target in service. */
  pause?: PauseOptions | 'every-batch'
  /** Where `rolling approve` / `rolling abort` messages arrive. @default fileControl({ dir: stateDir }) */
  control?: ControlChannel
  /** Zone-aware batches. @example { label: 'zone' } */
  zones?: ZonePlan
  /**
   * Targets that may fail (count or % of the candidates) before the rollout halts: a failed
   * target is left out and listed, and the rollout goes on; it ends `degraded`. Never lets
   * fewer than `minHealthy` stay in service. @default 0 (the first failure halts)
   */
  maxFailures?: Amount
  /**
   * The whole rollout must end by then: at it, a graceful abort with a reason that says so.
   * Milliseconds or a duration such as `'45m'`, `'2h'`, `'90s'`.
   */
  deadline?: number | string
}

export interface ResolvedPause {
  /** 0-based batch indexes after which to pause. */
  after: ReadonlySet<number> | 'every-batch'
  timeout: number
  onTimeout: 'abort' | 'approve'
}

export const DEFAULT_PAUSE_TIMEOUT = 86_400_000

/** `500`, `500ms`, `10s`, `2m`, `1.5h` -> milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!match) return undefined
  const unit = { s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'] ?? 1
  return Math.round(Number(match[1]) * unit)
}

/** A span as a person writes it, for pauses and deadlines: `90s`, `10m`, `1h30m`, `24h`. */
export function formatSpan(ms: number): string {
  if (ms < 60_000 || ms % 1000 !== 0) return formatMs(ms)
  const h = Math.floor(ms / 3_600_000)
  const m = Math.floor((ms % 3_600_000) / 60_000)
  const s = Math.round((ms % 60_000) / 1000)
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`
}

// A declared `never` function, so a failed check narrows the value's type.
function fail(option: string, expected: string, value: unknown): never {
  return failOption(option, expected, value)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/** Validates the control options; `checkAmount` is options.ts's, passed in to keep one. */
export function validateControl(
  options: ControlOptions & { verify?: unknown },
  checkAmount: (option: string, value: unknown, allowZero: boolean) => Amount,
): void {
  if (options.gates !== undefined) {
    if (!Array.isArray(options.gates)) fail('gates', 'a list of gates like [cloudwatchAlarms({ names })]', options.gates)
    options.gates.forEach((gate: unknown, i) => {
      if (!isObject(gate) || typeof gate.check !== 'function') fail(`gates[${i}]`, 'a gate with check(ctx)', gate)
      if (typeof gate.name !== 'string' || gate.name === '') fail(`gates[${i}].name`, 'a name', gate.name)
      for (const key of ['bake', 'interval', 'timeout'] as const)
        if (gate[key] !== undefined) checkMs(`gates[${i}].${key}`, gate[key], { min: key === 'bake' ? 0 : 1 })
    })
  }
  if (options.bake !== undefined) checkMs('bake', options.bake)
  if (options.pause !== undefined) {
    const pause = options.pause as unknown
    if (pause !== 'every-batch') {
      if (!isObject(pause)) fail('pause', "'every-batch' or { after: [1], timeout, onTimeout }", pause)
      checkKeys('pause', pause, PAUSE_KEYS)
      const after = pause.after
      if (after !== 'every-batch') {
        if (!Array.isArray(after) || after.length === 0) fail('pause.after', "a list of batch numbers from 1 (after the canary: [1]) or 'every-batch'", after)
        after.forEach((n: unknown, i) => {
          if (!Number.isInteger(n) || (n as number) < 1) fail(`pause.after[${i}]`, 'a batch number >= 1 (1 is the first batch)', n)
        })
      }
      if (pause.timeout !== undefined) checkMs('pause.timeout', pause.timeout, { min: 1 })
      if (pause.onTimeout !== undefined && pause.onTimeout !== 'abort' && pause.onTimeout !== 'approve')
        fail('pause.onTimeout', "'abort' or 'approve'", pause.onTimeout)
    }
  }
  if (options.control !== undefined) {
    const control = options.control as unknown
    if (!isObject(control) || typeof control.send !== 'function' || typeof control.receive !== 'function') {
      fail('control', 'a control channel with send() and receive()', control)
    }
  }
  if (options.zones !== undefined) {
    const zones = options.zones as unknown
    if (!isObject(zones)) fail('zones', "an object like { label: 'zone' }", zones)
    checkKeys('zones', zones, ZONE_KEYS)
    if (typeof zones.label !== 'string' || zones.label === '') fail('zones.label', "the name of a target label, like 'zone'", zones.label)
    if (zones.maxPerZone !== undefined) checkAmount('zones.maxPerZone', zones.maxPerZone, false)
    if (zones.minHealthy !== undefined) checkAmount('zones.minHealthy', zones.minHealthy, true)
  }
  if (options.maxFailures !== undefined) checkAmount('maxFailures', options.maxFailures, true)
  if (options.deadline !== undefined) deadlineMs(options.deadline)
  const verify = options.verify
  if (verify !== undefined && typeof verify !== 'boolean') {
    if (!isObject(verify)) fail('verify', "a boolean or { onMismatch: 'stop' | 'deploy' }", verify)
    checkKeys('verify', verify, VERIFY_KEYS)
    if (verify.onMismatch !== undefined && verify.onMismatch !== 'stop' && verify.onMismatch !== 'deploy')
      fail('verify.onMismatch', "'stop' or 'deploy'", verify.onMismatch)
  }
}

/** The deadline in ms, from a number or a duration string; throws naming `deadline`. */
export function deadlineMs(value: number | string): number {
  const ms = typeof value === 'string' ? parseDuration(value) : value
  if (ms === undefined) fail('deadline', "milliseconds or a duration like '45m', '2h', '90s'", value)
  return checkMs('deadline', ms, { min: 1 })
}

export function resolvePause(pause: ControlOptions['pause']): ResolvedPause | undefined {
  if (pause === undefined) return undefined
  const p: PauseOptions = pause === 'every-batch' ? { after: 'every-batch' } : pause
  return {
    after: p.after === 'every-batch' ? 'every-batch' : new Set(p.after.map((n) => n - 1)),
    timeout: p.timeout ?? DEFAULT_PAUSE_TIMEOUT,
    onTimeout: p.onTimeout ?? 'abort',
  }
}

/** True when the rollout pauses after batch `index` (0-based) of `total`; never after the last. */
export function pausesAfter(pause: ResolvedPause | undefined, index: number, total: number): boolean {
  if (!pause || index >= total - 1) return false
  return pause.after === 'every-batch' || pause.after.has(index)
}

export function resolveVerify(verify: boolean | VerifyOptions | undefined): { run: boolean; onMismatch: 'stop' | 'deploy' } {
  if (verify === false) return { run: false, onMismatch: 'stop' }
  return { run: true, onMismatch: (typeof verify === 'object' ? verify.onMismatch : undefined) ?? 'stop' }
}

/** The failure budget as a count of `candidates`. */
export function failureBudget(maxFailures: Amount | undefined, candidates: number): number {
  return maxFailures === undefined ? 0 : amountOf(maxFailures, candidates)
}

/** What `plan()` shows of the control options. */
export interface PlanControl {
  gates: string[]
  bake: number
  pause?: { after: number[] | 'every-batch'; timeout: number; onTimeout: 'abort' | 'approve' }
  /** The zone label, and the zones of each batch. */
  zones?: { label: string; maxPerZone?: Amount; minHealthy?: Amount; perBatch: string[][] }
  /** The failure budget as a count of the candidates. */
  maxFailures: number
  deadlineMs?: number
  onMismatch: 'stop' | 'deploy'
}

export function planControl(
  options: ControlOptions & { verify?: boolean | VerifyOptions },
  batches: readonly (readonly { labels?: Record<string, string> }[])[],
  candidates: number,
): PlanControl {
  const out: PlanControl = {
    gates: (options.gates ?? []).map((g) => g.name),
    bake: options.bake ?? 0,
    maxFailures: failureBudget(options.maxFailures, candidates),
    onMismatch: resolveVerify(options.verify).onMismatch,
  }
  const pause = resolvePause(options.pause)
  if (pause) {
    const after = pause.after === 'every-batch' ? 'every-batch' : [...pause.after].map((i) => i + 1).sort((a, b) => a - b)
    out.pause = { after, timeout: pause.timeout, onTimeout: pause.onTimeout }
  }
  if (options.zones) {
    const label = options.zones.label
    out.zones = { ...options.zones, perBatch: batches.map((b) => [...new Set(b.map((t) => t.labels?.[label] ?? '?'))]) }
  }
  if (options.deadline !== undefined) out.deadlineMs = deadlineMs(options.deadline)
  return out
}

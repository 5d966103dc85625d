// The rollout's typed events, and an emitter whose listeners cannot break the
// rollout: a listener that throws (or rejects) is reported, never fatal.
import { EventEmitter } from 'eventemitter3'
import type { Artifact, ExcludedTarget, Health, Target } from './types.js'
import type { Phase, RolloutResult, TargetOutcome } from './result.js'

export interface RolloutEventMap {
  'rollout:start': { runId: string; service: string; ref: string; resumed: boolean }
  plan: { runId: string; artifact: Artifact; candidates: readonly Target[]; batches: readonly (readonly Target[])[]; excluded: readonly ExcludedTarget[] }
  'batch:start': { index: number; total: number; targets: readonly Target[] }
  /** Before a batch after the first: the fleet's health is checked again (the gate). */
  'fleet:check': { batch: number; targets: readonly Target[] }
  /** The fleet check found targets failing, or too few healthy in service: the rollout halts. */
  'fleet:unhealthy': { batch: number; failing: readonly { target: Target; reason: string }[]; healthy: number; minHealthy: number }
  'target:precheck': { target: Target; batch: number }
  'target:detaching': { target: Target; batch: number }
  'target:skipped': { target: Target; batch: number; reason: string }
  'target:detached': { target: Target; batch: number }
  'target:deploying': { target: Target; batch: number; artifact: Artifact }
  'target:output': { target: Target; stream: 'stdout' | 'stderr'; chunk: string }
  'target:deployed': { target: Target; batch: number; durationMs: number }
  'target:healthy': { target: Target; batch: number; health: Health }
  'target:unhealthy': { target: Target; batch: number; health: Health; reason: string }
  /** Its batch's healthy (or restored) targets go back into the load balancer in one call. */
  'target:attaching': { target: Target; batch: number }
  'target:attached': { target: Target; batch: number }
  /** `settle.hold`: attached, and watched for this long before its batch counts. */
  'target:holding': { target: Target; batch: number; holdMs: number }
  'target:failed': { target: Target; batch: number; phase: Phase; reason: string }
  /** `onFailure: 'rollback'`: its previous build is being restored. */
  'target:rolling-back': { target: Target; batch: number; reason: string }
  'target:rolled-back': { target: Target; batch: number }
  'batch:end': { index: number; total: number; outcomes: Readonly<Record<string, TargetOutcome>> }
  'verify:start': { targets: readonly Target[] }
  'verify:mismatch': { target: Target; expected: { version: string; builtAt: string }; actual: { version?: string; builtAt?: string }; source: string }
  'target:stopped': { target: Target; reason: string }
  /** A gate is checked: after batch `batch` (0-based) is attached, or at the end (`final`). */
  'gate:start': { gate: string; batch: number; total: number; final: boolean }
  'gate:end': { gate: string; batch: number; total: number; final: boolean; passed: boolean; detail: string; durationMs: number }
  /** The rollout waits after batch `index`, every target in service, for approve / abort / the timeout. */
  'pause:start': { index: number; total: number; timeoutMs: number; until: number; onTimeout: 'abort' | 'approve'; control?: string; resumed: boolean }
  'pause:end': { index: number; total: number; how: 'approved' | 'aborted' | 'timeout'; by?: string; note?: string }
  /** A target failed within the failure budget (`maxFailures`): left out and listed; the rollout goes on. */
  'budget:spent': { target: Target; failures: number; budget: number }
  'rollout:end': { result: RolloutResult }
  warning: { message: string; target?: Target; data?: Record<string, unknown> }
  log: { level: 'debug' | 'info' | 'error'; message: string; data?: Record<string, unknown> }
  /** A listener threw; the rollout carried on. */
  'listener:error': { event: string; error: unknown }
}

export type RolloutEventName = keyof RolloutEventMap
/** Every event as one discriminated union, for `subscribe()`. */
export type RolloutEvent = { [K in RolloutEventName]: { type: K } & RolloutEventMap[K] }[RolloutEventName]

type Listener<K extends RolloutEventName> = (payload: RolloutEventMap[K]) => unknown

/** Typed emitter whose `emit` never throws, whatever the listeners do. */
export class RolloutEmitter {
  readonly #ee = new EventEmitter()
  // Wrapped listeners by original, so `off(event, fn)` removes what `on` added.
  readonly #wrapped = new Map<string, Map<Function, Function[]>>()
  #any = new Set<(event: RolloutEvent) => unknown>()

  on<K extends RolloutEventName>(event: K, listener: Listener<K>): () => void {
    return this.#add(event, listener, false)
  }

  once<K extends RolloutEventName>(event: K, listener: Listener<K>): () => void {
    return this.#add(event, listener, true)
  }

  off<K extends RolloutEventName>(event: K, listener: Listener<K>): void {
    const wrappers = this.#wrapped.get(event)?.get(listener)
    const wrapper = wrappers?.pop()
    if (wrapper) this.#ee.off(event, wrapper as (...args: unknown[]) => void)
  }

  /** Every event as a discriminated union; returns the unsubscribe function. */
  subscribe(listener: (event: RolloutEvent) => unknown): () => void {
    this.#any.add(listener)
    return () => this.#any.delete(listener)
  }

  emit<K extends RolloutEventName>(event: K, payload: RolloutEventMap[K]): void {
    this.#ee.emit(event, payload)
    if (this.#any.size > 0) {
      const union = { type: event, ...payload } as RolloutEvent
      for (const listener of this.#any) this.#call(event, () => listener(union))
    }
  }

  /** True when anyone listens to `event` (lets hot paths skip building payloads). */
  listens(event: RolloutEventName): boolean {
    return this.#any.size > 0 || this.#ee.listenerCount(event) > 0
  }

  #add<K extends RolloutEventName>(event: K, listener: Listener<K>, once: boolean): () => void {
    const wrapper = (payload: RolloutEventMap[K]) => {
      if (once) this.#forget(event, listener, wrapper)
      this.#call(event, () => listener(payload))
    }
    let byListener = this.#wrapped.get(event)
    if (!byListener) {
      byListener = new Map()
      this.#wrapped.set(event, byListener)
    }
    const list = byListener.get(listener) ?? []
    list.push(wrapper)
    byListener.set(listener, list)
    if (once) this.#ee.once(event, wrapper)
    else this.#ee.on(event, wrapper)
    return () => {
      this.#forget(event, listener, wrapper)
      this.#ee.off(event, wrapper)
    }
  }

  #forget(event: string, listener: Function, wrapper: Function): void {
    const list = this.#wrapped.get(event)?.get(listener)
    const at = list?.indexOf(wrapper) ?? -1
    if (list && at >= 0) list.splice(at, 1)
  }

  #call(event: string, invoke: () => unknown): void {
    try {
      const out = invoke()
      if (out && typeof (out as Promise<unknown>).then === 'function') {
        ;(out as Promise<unknown>).then(undefined, (error: unknown) => this.#report(event, error))
      }
    } catch (error) {
      this.#report(event, error)
    }
  }

  #report(event: string, error: unknown): void {
    if (event === 'listener:error') return // a throwing error listener must not loop
    if (this.#any.size === 0 && this.#ee.listenerCount('listener:error') === 0) {
      // Nobody asked to hear about it: still report it rather than swallow it.
      process.emitWarning(`[rolling] a listener of '${event}' threw: ${error instanceof Error ? error.message : String(error)}`)
      return
    }
    this.emit('listener:error', { event, error })
  }
}

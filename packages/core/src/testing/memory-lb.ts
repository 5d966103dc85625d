// An in-memory load balancer for engine tests. It records every call and the peak
// number of targets out of service, so the safety tests can assert the engine never
// takes out more than the batch and `minHealthy` allow.
import type { AdapterContext, Clock, LoadBalancer, Target } from '../types.js'
import { describeTarget, RollingError, throwIfAborted } from '../errors.js'

export type LoadBalancerOp = 'discover' | 'detach' | 'attach'

export interface LoadBalancerCall {
  op: LoadBalancerOp
  ids: string[]
  /** Clock time when the call started. */
  at: number
}

export interface MemoryLoadBalancerOptions {
  /** Targets registered and in service at the start. */
  targets: readonly Target[]
  /** Clock for drain/attach waits and call times. @default the clock of each call's context */
  clock?: Clock
  /** How long `detach` waits for connections to drain. @default 0 */
  drainMs?: number
  /** How long `attach` waits before the target counts as healthy. @default 0 */
  attachMs?: number
  /** @default 'memory' */
  name?: string
  /** Called (and awaited) at the start of each `detach`, e.g. to abort a rollout mid-drain. */
  onDetach?: (targets: readonly Target[]) => void | Promise<void>
  /** Called (and awaited) at the start of each `attach`. */
  onAttach?: (targets: readonly Target[]) => void | Promise<void>
}

export interface MemoryLoadBalancer extends LoadBalancer {
  readonly calls: LoadBalancerCall[]
  /** Targets registered but currently out of service. */
  readonly outOfService: number
  /** The largest `outOfService` ever observed. */
  readonly maxOutOfService: number
  inService(id: string): boolean
  /** Registers a target in service, as autoscaling would. */
  add(target: Target): void
  /** Deregisters a target entirely (instance terminated). */
  remove(id: string): void
  /** The next call of `op` rejects with `error` before changing anything. */
  failNext(op: LoadBalancerOp, error: Error): void
  onDetach?: ((targets: readonly Target[]) => void | Promise<void>) | undefined
  onAttach?: ((targets: readonly Target[]) => void | Promise<void>) | undefined
}

interface Entry {
  target: Target
  inService: boolean
}

export function memoryLoadBalancer(options: MemoryLoadBalancerOptions): MemoryLoadBalancer {
  const name = options.name ?? 'memory'
  const drainMs = options.drainMs ?? 0
  const attachMs = options.attachMs ?? 0
  const entries = new Map<string, Entry>()
  const failures = new Map<LoadBalancerOp, Error[]>()
  const calls: LoadBalancerCall[] = []
  let outOfService = 0
  let maxOutOfService = 0

  const add = (target: Target) => {
    const previous = entries.get(target.id)
    if (previous && !previous.inService) outOfService--
    entries.set(target.id, { target: copy(target), inService: true })
  }
  for (const target of options.targets) add(target)

  const clockOf = (ctx: AdapterContext) => options.clock ?? ctx.clock

  // Every check happens before any state changes, so a failed call leaves nothing half done.
  const begin = (op: LoadBalancerOp, targets: readonly Target[], ctx: AdapterContext): Entry[] => {
    const queued = failures.get(op)
    const injected = queued?.shift()
    if (queued?.length === 0) failures.delete(op)
    if (injected) throw injected
    throwIfAborted(ctx.signal)
    const found = targets.map((target) => {
      const entry = entries.get(target.id)
      if (!entry) throw new RollingError('ADAPTER', `[rolling:${name}] cannot ${op} unknown target ${describeTarget(target)}`)
      return entry
    })
    calls.push({ op, ids: targets.map((t) => t.id), at: clockOf(ctx).now() })
    return found
  }

  const lb: MemoryLoadBalancer = {
    name,
    calls,
    onDetach: options.onDetach,
    onAttach: options.onAttach,
    get outOfService() {
      return outOfService
    },
    get maxOutOfService() {
      return maxOutOfService
    },
    inService: (id) => entries.get(id)?.inService ?? false,
    add,
    remove(id) {
      const entry = entries.get(id)
      if (entry && !entry.inService) outOfService--
      entries.delete(id)
    },
    failNext(op, error) {
      const queued = failures.get(op) ?? []
      queued.push(error)
      failures.set(op, queued)
    },

    async discover(ctx) {
      begin('discover', [], ctx)
      const out: Target[] = []
      for (const entry of entries.values()) if (entry.inService) out.push(copy(entry.target))
      const last = calls[calls.length - 1]
      if (last) last.ids = out.map((t) => t.id)
      return out
    },

    async detach(targets, ctx) {
      await lb.onDetach?.(targets)
      const found = begin('detach', targets, ctx)
      let changed = false
      for (const entry of found) {
        if (!entry.inService) continue
        entry.inService = false
        outOfService++
        changed = true
      }
      maxOutOfService = Math.max(maxOutOfService, outOfService)
      // Traffic stopped at once; only the wait for open connections is abortable.
      if (changed && drainMs > 0) await clockOf(ctx).sleep(drainMs, ctx.signal)
    },

    async attach(targets, ctx) {
      await lb.onAttach?.(targets)
      const found = begin('attach', targets, ctx)
      const pending = found.filter((entry) => !entry.inService)
      if (pending.length === 0) return
      // The target counts as in service only once the LB's health checks pass; an abort
      // before then leaves it out, and the engine must report it.
      if (attachMs > 0) await clockOf(ctx).sleep(attachMs, ctx.signal)
      for (const entry of pending) {
        // It may have been removed (terminated) or attached by a concurrent call meanwhile.
        if (entries.get(entry.target.id) !== entry || entry.inService) continue
        entry.inService = true
        outOfService--
      }
    },
  }
  return lb
}

function copy(target: Target): Target {
  return { ...target, ...(target.labels ? { labels: { ...target.labels } } : {}) }
}

// An in-memory load balancer for engine tests. It records every call and the peak
// number of targets out of service, so the safety tests can assert the engine never
// takes out more than the batch and `minHealthy` allow.
import type { AdapterContext, AttachResult, Clock, DetachResult, Discovery, ExcludedTarget, LoadBalancer, Target } from '../types.js'
import { describeTarget, RollingError, throwIfAborted } from '../errors.js'

export type LoadBalancerOp = 'discover' | 'detach' | 'attach'

/** What an operator does by hand: `maint` and `drain` take a target out, `ready` puts it back. */
export type OperatorAction = 'maint' | 'drain' | 'ready'

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
  /** The drain wait for held connections without `ctx.drain.timeoutMs`. @default 300_000 */
  drainTimeoutMs?: number
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
  /**
   * An operator's hand on the load balancer, as `disable server` / `state drain` / `enable
   * server` would be: the target leaves (or rejoins) service, and the rollout must leave it
   * as found. `ready` also clears rolling's own hold.
   */
  operator(id: string, action: OperatorAction): void
  /** Opens a long request to the target; detach waits for it until `release()` (or its drain timeout). */
  holdConnection(id: string): { release(): void }
  /** Who holds the target out of service now, if anyone. */
  heldBy(id: string): 'rolling' | 'operator' | undefined
}

interface Entry {
  target: Target
  inService: boolean
  /** Who took it out: rolling (detach) or an operator (and how). */
  by?: { who: 'rolling' } | { who: 'operator'; action: 'maint' | 'drain' }
  connections: number
  /** Resolved each time a held connection is released. */
  released: Array<() => void>
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
    entries.set(target.id, { target: copy(target), inService: true, connections: 0, released: [] })
  }
  for (const target of options.targets) add(target)

  const clockOf = (ctx: AdapterContext) => options.clock ?? ctx.clock
  const theirs = (entry: Entry): ExcludedTarget | undefined =>
    entry.by?.who === 'operator' ? { target: copy(entry.target), reason: `${entry.by.action.toUpperCase()} set by an operator (not by rolling)` } : undefined
  const setOut = (entry: Entry, by: Entry['by']) => {
    if (entry.inService) outOfService++
    entry.inService = false
    entry.by = by
    maxOutOfService = Math.max(maxOutOfService, outOfService)
  }

  // Waits until the entries hold no connection, or the drain timeout; returns the ones still held.
  const drained = async (held: Entry[], ctx: AdapterContext): Promise<Entry[]> => {
    const busy = () => held.filter((e) => e.connections > 0)
    if (busy().length === 0) return []
    const timer = new AbortController()
    const stop = () => timer.abort(ctx.signal?.reason)
    ctx.signal?.addEventListener('abort', stop, { once: true })
    try {
      const released = new Promise<void>((resolve) => {
        const check = () => (busy().length === 0 ? resolve() : undefined)
        for (const e of held) e.released.push(check)
      })
      const timedOut = clockOf(ctx)
        .sleep(ctx.drain?.timeoutMs ?? options.drainTimeoutMs ?? 300_000, timer.signal)
        .then(() => 'timeout' as const)
      await Promise.race([released, timedOut])
      throwIfAborted(ctx.signal)
      return busy()
    } finally {
      ctx.signal?.removeEventListener('abort', stop)
      timer.abort()
    }
  }

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

    operator(id, action) {
      const entry = entries.get(id)
      if (!entry) throw new RollingError('ADAPTER', `[rolling:${name}] operator: unknown target ${id}`)
      if (action !== 'ready') return setOut(entry, { who: 'operator', action })
      if (!entry.inService) outOfService--
      entry.inService = true
      delete entry.by
    },
    holdConnection(id) {
      const entry = entries.get(id)
      if (!entry) throw new RollingError('ADAPTER', `[rolling:${name}] holdConnection: unknown target ${id}`)
      entry.connections++
      let open = true
      return {
        release() {
          if (!open) return
          open = false
          entry.connections--
          for (const notify of entry.released.splice(0)) notify()
        },
      }
    },
    heldBy: (id) => {
      const entry = entries.get(id)
      return entry?.inService === false ? entry.by?.who : undefined
    },

    async discover(ctx) {
      return (await lb.inventory?.(ctx))?.targets ?? []
    },

    async inventory(ctx): Promise<Discovery> {
      begin('discover', [], ctx)
      const targets: Target[] = []
      const excluded: ExcludedTarget[] = []
      for (const entry of entries.values()) {
        if (entry.inService) targets.push(copy(entry.target))
        const their = theirs(entry)
        if (their) excluded.push(their)
      }
      const last = calls[calls.length - 1]
      if (last) last.ids = targets.map((t) => t.id)
      return { targets, excluded }
    },

    async detach(targets, ctx): Promise<DetachResult> {
      await lb.onDetach?.(targets)
      const found = begin('detach', targets, ctx)
      const foreign = found.flatMap((e) => theirs(e) ?? [])
      const mine = found.filter((e) => !theirs(e))
      const changed = mine.some((e) => e.inService)
      for (const entry of mine) setOut(entry, { who: 'rolling' })
      // Traffic stopped at once; only the wait for open connections is abortable.
      if (changed && drainMs > 0) await clockOf(ctx).sleep(drainMs, ctx.signal)
      const held = await drained(mine, ctx)
      if (held.length === 0) return { foreign }
      const left = held.map((e) => ({ target: copy(e.target), reason: `${describeTarget(e.target)}: ${e.connections} connection(s) left` }))
      if (!ctx.drain) {
        throw new RollingError(
          'ADAPTER',
          `[rolling:${name}] ${held.map((e) => e.target.id).join(', ')} did not drain in time: ${left.map((l) => l.reason).join('; ')}`,
        )
      }
      if (ctx.drain.onTimeout === 'halt') return { foreign, undrained: left }
      for (const e of held) {
        e.connections = 0
        for (const notify of e.released.splice(0)) notify()
      }
      return { foreign, forced: left.map((l) => ({ ...l, reason: `${l.reason}, closed` })) }
    },

    async attach(targets, ctx): Promise<AttachResult> {
      await lb.onAttach?.(targets)
      const found = begin('attach', targets, ctx)
      // Changed by an operator while the rollout held it out: left as found.
      const foreign = found.flatMap((e) => theirs(e) ?? [])
      const pending = found.filter((entry) => !entry.inService && !theirs(entry))
      if (pending.length === 0) return { foreign }
      // The target counts as in service only once the LB's health checks pass; an abort
      // before then leaves it out, and the engine must report it.
      if (attachMs > 0) await clockOf(ctx).sleep(attachMs, ctx.signal)
      for (const entry of pending) {
        // It may have been removed (terminated), attached by a concurrent call, or taken by an operator meanwhile.
        if (entries.get(entry.target.id) !== entry || entry.inService || theirs(entry)) continue
        entry.inService = true
        delete entry.by
        outOfService--
      }
      return { foreign }
    },
  }
  return lb
}

function copy(target: Target): Target {
  return { ...target, ...(target.labels ? { labels: { ...target.labels } } : {}) }
}

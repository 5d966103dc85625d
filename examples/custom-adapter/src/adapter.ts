// The LoadBalancer adapter for tinylb, written from scratch against @org/rolling-core's
// contract: discover what is in service, detach (drain, then wait for in-flight requests
// to finish) and attach (enable, then wait for tinylb's own fresh health check to pass).
import { type AdapterContext, type AttachResult, type DetachResult, type Discovery, type ExcludedTarget, type LoadBalancer, type Target, TimeoutError, ValidationError } from '@org/rolling-core'
import { describeTarget, throwIfAborted, waitUntil } from '@org/rolling-core/adapter'
import { adminClient } from './admin-client.js'
import { TinyLbError } from './errors.js'
import type { TinyLbBackend } from './tinylb.js'

export interface TinyLbLoadBalancerOptions {
  /**
   * Base URL of tinylb's admin API.
   * @example 'http://127.0.0.1:9000'
   */
  adminUrl: string
  /**
   * Longest wait for a draining backend's in-flight requests to reach 0.
   * The engine's own deadline (`timeouts.detach`), when sooner, wins.
   * @default 60_000
   */
  drainTimeoutMs?: number
  /**
   * Longest wait for an enabled backend to pass tinylb's fresh health check.
   * The engine's own deadline (`timeouts.attach`), when sooner, wins.
   * @default 60_000
   */
  attachTimeoutMs?: number
  /** First delay between polls of the admin API; later delays grow to 1 s. @default 50 */
  pollMs?: number
  /** Longest wait for one admin API call. @default 5000 */
  requestTimeoutMs?: number
}

export interface TinyLbLoadBalancer extends LoadBalancer {
  readonly name: 'tinylb'
  inventory(ctx: AdapterContext): Promise<Discovery>
  detach(targets: readonly Target[], ctx: AdapterContext): Promise<DetachResult>
  attach(targets: readonly Target[], ctx: AdapterContext): Promise<AttachResult>
}

/** How this adapter signs its drains in tinylb, so a fresh instance (resume) knows its own. */
const BY = 'rolling'

export function tinyLbLoadBalancer(options: TinyLbLoadBalancerOptions): TinyLbLoadBalancer {
  const opts = { drainTimeoutMs: 60_000, attachTimeoutMs: 60_000, pollMs: 50, requestTimeoutMs: 5000, ...options }
  validate(opts)
  const api = adminClient(opts.adminUrl, opts.requestTimeoutMs)

  // Every target must be a known backend before anything changes: a batch with one bad id
  // touches nothing (the contract suite checks this).
  const resolve = async (targets: readonly Target[], ctx: AdapterContext): Promise<TinyLbBackend[]> => {
    const byId = new Map((await api.list(ctx.signal)).map((b) => [b.id, b]))
    return targets.map((target) => {
      const backend = byId.get(target.id)
      if (!backend) throw new TinyLbError('unknown-target', `target ${describeTarget(target)} is not a backend of tinylb at ${opts.adminUrl}`)
      return backend
    })
  }

  // Polls the admin API until every backend in `ids` passes `ok`. `waitUntil` takes both
  // budgets (the adapter's limit and the engine's deadline for this step) and words the
  // timeout from `describe`, naming the late ones.
  const waitFor = (ids: readonly string[], ok: (b: TinyLbBackend) => boolean, what: string, limitMs: number, ctx: AdapterContext) =>
    waitUntil(
      async () => {
        const now = new Map((await api.list(ctx.signal)).map((b) => [b.id, b]))
        const late = ids.map((id) => now.get(id) ?? { id, missing: true }).filter((b) => 'missing' in b || !ok(b))
        return late.length === 0 ? { state: 'done', value: undefined } : { state: 'retry', observed: late }
      },
      {
        what: `${ids.join(', ')} to ${what}`,
        timeoutMs: limitMs,
        deadline: ctx.deadline,
        label: 'tinylb',
        describe: (late) =>
          ((late ?? []) as (TinyLbBackend | { id: string; missing: true })[])
            .map((b) => ('missing' in b ? `${b.id} was removed` : `${b.id} is ${b.state}, ${b.healthy ? 'healthy' : 'unhealthy'}, ${b.active} in flight`))
            .join('; '),
        minDelayMs: opts.pollMs,
        maxDelayMs: Math.max(opts.pollMs, 1000),
        signal: ctx.signal,
        clock: ctx.clock,
      },
    )

  const target = (b: TinyLbBackend): Target => ({ id: b.id, address: b.address, port: b.port })
  // Drained by someone else (an operator through the admin API): the rollout leaves it as found.
  const theirs = (b: TinyLbBackend): ExcludedTarget | undefined =>
    b.state === 'draining' && b.drainedBy !== BY
      ? { target: target(b), reason: `draining, set by ${b.drainedBy ?? 'someone else'} (not by rolling)` }
      : undefined
  const post = (b: TinyLbBackend, action: string, ctx: AdapterContext) => api.post(`/backends/${encodeURIComponent(b.id)}/${action}`, ctx.signal)

  const inventory = async (ctx: AdapterContext): Promise<Discovery> => {
    throwIfAborted(ctx.signal)
    const backends = await api.list(ctx.signal)
    // In service = takes new requests: enabled and passing tinylb's health check.
    return { targets: backends.filter((b) => b.state === 'active' && b.healthy).map(target), excluded: backends.flatMap((b) => theirs(b) ?? []) }
  }

  return {
    name: 'tinylb',
    inventory,
    discover: async (ctx) => (await inventory(ctx)).targets,

    async detach(targets, ctx) {
      throwIfAborted(ctx.signal)
      const found = await resolve(targets, ctx)
      const foreign = found.flatMap((b) => theirs(b) ?? [])
      const backends = found.filter((b) => !theirs(b))
      // Already draining by rolling (a retry, or `resume` after a crash): do not drain again, just wait.
      await Promise.all(backends.filter((b) => b.state !== 'draining').map((b) => post(b, `drain?by=${BY}`, ctx)))
      try {
        await waitFor(
          backends.map((b) => b.id),
          (b) => b.state === 'draining' && b.active === 0,
          'drain',
          ctx.drain?.timeoutMs ?? opts.drainTimeoutMs,
          ctx,
        )
      } catch (error) {
        if (!(error instanceof TimeoutError) || !ctx.drain) throw error
        const late = ((error.lastObserved ?? []) as TinyLbBackend[]).filter((b) => 'active' in b)
        const left = late.map((b) => ({ target: target(b), reason: `${b.id}: ${b.active} request(s) still in flight` }))
        if (ctx.drain.onTimeout === 'halt') return { foreign, undrained: left }
        await Promise.all(late.map((b) => post(b, 'close-sessions', ctx)))
        return { foreign, forced: left.map((l) => ({ ...l, reason: `${l.reason}, closed by tinylb` })) }
      }
      ctx.log.debug(`[rolling:tinylb] drained ${backends.map((b) => b.id).join(', ')}`)
      return { foreign }
    },

    async attach(targets, ctx) {
      throwIfAborted(ctx.signal)
      const found = await resolve(targets, ctx)
      // Drained by an operator while rolling held it (the drain's signature changed): left as found.
      const foreign = found.flatMap((b) => theirs(b) ?? [])
      const backends = found.filter((b) => !theirs(b))
      await Promise.all(backends.filter((b) => b.state !== 'active').map((b) => post(b, 'enable', ctx)))
      // tinylb resets `healthy` on enable, so this waits for a check of the new build.
      await waitFor(
        backends.map((b) => b.id),
        (b) => b.state === 'active' && b.healthy,
        'pass a fresh health check',
        opts.attachTimeoutMs,
        ctx,
      )
      ctx.log.debug(`[rolling:tinylb] attached ${backends.map((b) => b.id).join(', ')}`)
      return { foreign }
    },
  }
}

function validate(opts: Required<TinyLbLoadBalancerOptions>): void {
  let url: URL | undefined
  try {
    url = new URL(opts.adminUrl)
  } catch {}
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ValidationError('adminUrl', `tinyLbLoadBalancer: expected an http(s) URL of the admin API, got ${JSON.stringify(opts.adminUrl)}`)
  }
  for (const key of ['drainTimeoutMs', 'attachTimeoutMs', 'pollMs', 'requestTimeoutMs'] as const) {
    const value = opts[key]
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
      throw new ValidationError(key, `tinyLbLoadBalancer: expected a finite number of ms >= 1, got ${String(value)}`)
    }
  }
}

// The LoadBalancer adapter over the HAProxy Runtime API. Targets are servers of the
// configured backends (`<backend>/<server>`); detach drains then puts them in maintenance;
// attach brings them back only once HAProxy has seen fresh, passing health checks.
import { describeTarget, throwIfAborted, waitUntil } from '@org/rolling-core/adapter'
import { type AdapterContext, type Discovery, type LoadBalancer, type Target, TimeoutError } from '@org/rolling-core'
import { HaproxyError } from './errors.js'
import { foreignState, hasCheck, marked, outOfService } from './ownership.js'
import { inMaint, isReady, isUp, parseServersState, parseStat, type ServerStat, type ServerState } from './parse.js'
import { runtimeApi, type RuntimeApi } from './runtime-api.js'
import { DEFAULTS, type HaproxyLoadBalancerOptions, NAME, validate } from './options.js'
import { type Busy, type Resolved, byOwner, refsOf, seconds, toTarget, unique } from './servers.js'
import { waitForState as waitForServers } from './wait-for-state.js'

export type { HaproxyLoadBalancerOptions }

/** How recent the engine's settle pass must be for attachChecks 'settle' to take it as proof. */
const SETTLE_PROOF_MS = 2000

export interface HaproxyLoadBalancer extends LoadBalancer {
  readonly name: 'haproxy'
  readonly backends: readonly string[]
  /** The runtime API client the adapter uses, for callers who need more commands. */
  readonly api: RuntimeApi
}

export function haproxyLoadBalancer(options: HaproxyLoadBalancerOptions): HaproxyLoadBalancer {
  const opts = { ...DEFAULTS, ...options }
  const backends = validate(opts)
  const api = runtimeApi(opts.socket, { timeoutMs: opts.commandTimeoutMs })
  const maxDelayMs = Math.max(opts.pollMs, 1000)

  const states = async (names: readonly string[], signal: AbortSignal): Promise<ServerState[]> =>
    (await Promise.all(names.map(async (be) => parseServersState(be, await api.send(`show servers state ${be}`, { signal }))))).flat()
  const stats = async (names: readonly string[], signal: AbortSignal): Promise<Map<string, ServerStat>> => {
    const rows = await Promise.all(names.map(async (be) => parseStat(be, await api.send(`show stat ${be} 4 -1`, { signal }))))
    return new Map(rows.flat().map((row) => [`${row.backend}/${row.server}`, row]))
  }
  const set = (refs: readonly string[], what: string, ctx: AdapterContext) =>
    Promise.all(refs.map((ref) => api.execute(`set server ${ref} ${what}`, { signal: ctx.signal })))
  // `enable health <ref>` / `disable health <ref>`: rolling's mark (see ownership.ts).
  const health = (refs: readonly string[], what: 'enable' | 'disable', ctx: AdapterContext) =>
    Promise.all(refs.map((ref) => api.execute(`${what} health ${ref}`, { signal: ctx.signal })))

  // Validates every target before anything changes, so a bad id in a batch touches no server.
  const resolve = async (targets: readonly Target[], ctx: AdapterContext): Promise<Resolved[]> => {
    const refs = targets.map((target) => {
      const slash = target.id.indexOf('/')
      const backend = target.id.slice(0, slash)
      const server = target.id.slice(slash + 1)
      if (slash < 0 || !NAME.test(backend) || !NAME.test(server) || !backends.includes(backend)) {
        throw new HaproxyError(
          'unknown-target',
          `target ${describeTarget(target)} is not a server of the configured backend(s) ${backends.join(', ')}: haproxy target ids are <backend>/<server>`,
        )
      }
      return { target, backend, server }
    })
    const known = await states(unique(refs.map((ref) => ref.backend)), ctx.signal)
    return refs.map(({ target, backend, server }) => {
      const state = known.find((s) => s.backend === backend && s.server === server)
      if (!state) throw new HaproxyError('unknown-server', `target ${describeTarget(target)}: HAProxy backend ${backend} has no server named ${server}`)
      const ref = `${backend}/${server}`
      return { target, ref, state, label: describeTarget({ id: ref, address: state.address, ...(state.port === undefined ? {} : { port: state.port }) }) }
    })
  }

  // One `show servers state` per backend: in service are the candidates; in MAINT or DRAIN
  // by someone else's hand, excluded. Servers rolling holds out are neither.
  const inventory = async (ctx: AdapterContext): Promise<Discovery> => {
    throwIfAborted(ctx.signal)
    const all = await states(backends, ctx.signal)
    const excluded = all.flatMap((s) => {
      const reason = foreignState(s, 'inventory')
      return reason === undefined ? [] : [{ target: toTarget(s), reason }]
    })
    return { targets: all.filter(isReady).map(toTarget), excluded }
  }

  return {
    name: 'haproxy',
    backends,
    api,

    async discover(ctx) {
      return (await inventory(ctx)).targets
    },
    inventory,

    async detach(targets, ctx) {
      throwIfAborted(ctx.signal)
      const { foreign, ours } = byOwner(await resolve(targets, ctx), 'detach')
      // Ours in MAINT: detached before, nothing to do (idempotent). Ours in DRAIN: wait again.
      const pending = ours.filter((s) => !(inMaint(s.state) && marked(s.state)))
      const fresh = pending.filter((s) => !outOfService(s.state))
      // The mark first: a crash between the two commands leaves a server in service, never
      // one in DRAIN that looks like an operator's.
      await health(
        fresh.filter((s) => hasCheck(s.state)).map((s) => s.ref),
        'disable',
        ctx,
      )
      await set(
        fresh.map((s) => s.ref),
        'state drain',
        ctx,
      )
      if (pending.length === 0) return { foreign }
      const labels = new Map(pending.map((s) => [s.ref, s.label]))
      const names = unique(pending.map((s) => s.state.backend))
      const left = (b: Busy) => `${labels.get(b.server) ?? b.server}: ${b.scur} connection(s) left${b.qcur > 0 ? `, ${b.qcur} queued request(s)` : ''}`
      const started = ctx.clock.now()
      try {
        await waitUntil(
          async () => {
            const live = await stats(names, ctx.signal)
            const left = pending
              .map((s) => ({ server: s.ref, scur: live.get(s.ref)?.scur ?? 0, qcur: live.get(s.ref)?.qcur ?? 0 }))
              .filter((b) => b.scur > 0 || b.qcur > 0)
            return left.length === 0 ? { state: 'done', value: undefined } : { state: 'retry', observed: left }
          },
          {
            what: `${refsOf(pending)} to drain`,
            timeoutMs: ctx.drain?.timeoutMs ?? opts.drainTimeoutMs,
            deadline: ctx.deadline,
            label: 'haproxy',
            describe: (busy) => `${((busy ?? []) as Busy[]).map(left).join('; ') || 'connections remained'}; left in DRAIN (no new traffic)`,
            minDelayMs: opts.pollMs,
            maxDelayMs,
            signal: ctx.signal,
            clock: ctx.clock,
          },
        )
      } catch (error) {
        // Without the engine's drain policy (a direct call), the timeout is the answer.
        if (!(error instanceof TimeoutError) || !ctx.drain) throw error
        const busy = (error.lastObserved ?? []) as Busy[]
        const ms = ctx.clock.now() - started
        if (ctx.drain.onTimeout === 'proceed') {
          // HAProxy's own way to end what is left: close the server's sessions.
          await Promise.all(busy.map((b) => api.execute(`shutdown sessions server ${b.server}`, { signal: ctx.signal })))
        }
        const list = busy.flatMap((b) => {
          const s = pending.find((p) => p.ref === b.server)
          return s
            ? [
                {
                  target: s.target,
                  reason: `${left(b)} after ${seconds(ms)}${ctx.drain?.onTimeout === 'proceed' ? ', closed by `shutdown sessions server`' : ''}`,
                },
              ]
            : []
        })
        if (ctx.drain.onTimeout === 'halt') {
          // The undrained stay in DRAIN (marked, no new traffic); the engine attaches them back.
          const held = new Set(busy.map((b) => b.server))
          await set(
            pending.filter((s) => !held.has(s.ref)).map((s) => s.ref),
            'state maint',
            ctx,
          )
          return { foreign, undrained: list }
        }
        await set(
          pending.map((s) => s.ref),
          'state maint',
          ctx,
        )
        return { foreign, forced: list }
      }
      // Drained: MAINT also pauses health checks, so a server being redeployed is not marked DOWN noisily.
      await set(
        pending.map((s) => s.ref),
        'state maint',
        ctx,
      )
      ctx.log.debug(`[rolling:haproxy] drained ${refsOf(pending)}`)
      return { foreign }
    },

    async attach(targets, ctx) {
      throwIfAborted(ctx.signal)
      // Someone changed it while the rollout held it out: left as found, never re-enabled.
      const { foreign, ours } = byOwner(await resolve(targets, ctx), 'attach')
      // Put back in service by someone else while marked: only our mark is undone.
      await set(
        ours.filter((s) => !outOfService(s.state) && marked(s.state)).map((s) => s.ref),
        'enable',
        ctx,
      )
      const todo = ours.filter((s) => outOfService(s.state) || !isUp(s.state))
      if (todo.length === 0) return { foreign }
      // One attach budget for every wait below.
      const attachBy = ctx.clock.now() + opts.attachTimeoutMs
      const checked = todo.filter((s) => hasCheck(s.state))
      const unchecked = todo.filter((s) => !hasCheck(s.state))

      // Why not just `state ready`: HAProxy 2.6 puts a server leaving MAINT straight to UP
      // ("start OK but check immediately": check health is set to `rise`), still showing
      // the last check result from before the maintenance, and sends it traffic at once.
      // A broken new build gets requests until the first check fails. So: leave MAINT for
      // DRAIN (no new traffic), enable checks again, force the check health to 0 (`health
      // down`), and wait for HAProxy's own checks, all run after that point, to pass: the
      // first one (attachChecks 'one', then `health up`: settle has already seen the new
      // build answer, so HAProxy's rise-1 other checks add an inter each and little proof),
      // or all `rise` of them. Only then `state ready` lets traffic in.
      const fromMaint = checked.filter((s) => inMaint(s.state))
      const now = ctx.clock.now()
      const proven = (s: Resolved) => now - (ctx.seenHealthy?.get(s.target.id) ?? Number.NEGATIVE_INFINITY) <= SETTLE_PROOF_MS
      const settled = opts.attachChecks === 'settle' ? checked.filter(proven) : []
      const waiting = checked.filter((s) => !settled.includes(s))
      try {
        await set(
          fromMaint.map((s) => s.ref),
          'state drain',
          ctx,
        )
        await health(
          checked.map((s) => s.ref),
          'enable',
          ctx,
        )
        await set(
          waiting.map((s) => s.ref),
          'health down',
          ctx,
        )
        if (opts.attachChecks === 'rise') await waitForState(waiting, isUp, 'pass fresh health checks', attachBy, ctx)
        else await waitForState(waiting, isUp, 'pass fresh health checks', attachBy, ctx, (stat) => stat.checkHealth >= 1)
        // Fully up: HAProxy's checks go on at `inter`, and `fall` failures take a server out.
        await set(opts.attachChecks === 'rise' ? [] : checked.map((s) => s.ref), 'health up', ctx)
      } catch (error) {
        // Back to where detach left them, mark included (also after an abort), so a failed
        // attach leaves no half-state and a later attach still knows them as rolling's.
        await Promise.all(
          checked.map((s) =>
            api
              .execute(`disable health ${s.ref}`)
              .then(() => (inMaint(s.state) ? api.execute(`set server ${s.ref} state maint`) : undefined))
              .catch(() => {}),
          ),
        )
        throw error
      }
      if (unchecked.length > 0) {
        ctx.log.warn(`[rolling:haproxy] ${refsOf(unchecked)} have no health check: HAProxy cannot confirm the new build before sending it traffic`)
      }
      await set(
        todo.map((s) => s.ref),
        'state ready',
        ctx,
      )
      await waitForState(todo, isReady, 'be ready and UP', attachBy, ctx)
      ctx.log.debug(`[rolling:haproxy] attached ${refsOf(todo)}`)
      return { foreign }
    },
  }

  // A declaration, hoisted: the methods above call it.
  function waitForState(servers: Resolved[], ok: (s: ServerState) => boolean, what: string, by: number, ctx: AdapterContext, okStat?: (s: ServerStat) => boolean) {
    return waitForServers({ states, stats, pollMs: opts.attachPollMs }, servers, ok, what, by, ctx, okStat)
  }
}

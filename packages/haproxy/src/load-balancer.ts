// The LoadBalancer adapter over the HAProxy Runtime API. Targets are servers of the
// configured backends (`<backend>/<server>`); detach drains then puts them in maintenance;
// attach brings them back only once HAProxy has seen fresh, passing health checks.
import { TimeoutError, ValidationError } from '@org/rolling-core'
import { checkMs, describeTarget, throwIfAborted, waitUntil } from '@org/rolling-core/adapter'
import type { AdapterContext, Discovery, LoadBalancer, Target } from '@org/rolling-core'
import { HaproxyError } from './errors.js'
import { foreignState, hasCheck, marked, outOfService } from './ownership.js'
import { inMaint, isReady, isUp, parseServersState, parseStat, type ServerStat, type ServerState } from './parse.js'
import { runtimeApi, type RuntimeApi } from './runtime-api.js'

export interface HaproxyLoadBalancerOptions {
  /**
   * The runtime API: a unix socket path or `host:port`, declared with `level admin`.
   * @example '/run/haproxy/admin.sock'
   */
  socket: string
  /** The backend(s) whose servers are the targets. */
  backends: string | readonly string[]
  /**
   * Longest wait for a drained server's connections (scur) and queue (qcur) to reach 0.
   * @default 300_000
   */
  drainTimeoutMs?: number
  /**
   * Longest wait for attached servers to pass fresh health checks.
   * @default 60_000
   */
  attachTimeoutMs?: number
  /**
   * First delay between drain polls; later delays grow to at most 1 s.
   * @default 200
   */
  pollMs?: number
  /** Interval of the steady poll while attach waits for HAProxy to report the server UP. @default 50 */
  attachPollMs?: number
  /**
   * What proves a server healthy on its new build before attach gives it traffic again.
   * `'settle'`: the engine's settle, when it has just seen the target pass (`ctx.seenHealthy`,
   * within the last 2 s): `health up` at once; a server without that proof (resumed, restored)
   * waits as with `'one'`. `'one'`: the first fresh passing check of HAProxy's own, then
   * `health up` (up to one `inter`). `'rise'`: HAProxy's full `rise` count of fresh checks,
   * `inter` apart. See the README for the trade-off.
   * @default 'settle'
   */
  attachChecks?: 'settle' | 'one' | 'rise'
  /**
   * Longest wait for one runtime API command.
   * @default 5000
   */
  commandTimeoutMs?: number
}

export interface HaproxyLoadBalancer extends LoadBalancer {
  readonly name: 'haproxy'
  readonly backends: readonly string[]
  /** The runtime API client the adapter uses, for callers who need more commands. */
  readonly api: RuntimeApi
}

interface Resolved {
  target: Target
  /** `<backend>/<server>`, as the runtime API names it. */
  ref: string
  state: ServerState
  /** For messages: the ref with the address and port HAProxy has for it. */
  label: string
}

/** How recent the engine's settle pass must be for attachChecks 'settle' to take it as proof. */
const SETTLE_PROOF_MS = 2000

// HAProxy accepts only these characters in proxy and server names; anything else
// (a space, a `;` that would chain a second command) cannot name a server.
const NAME = /^[A-Za-z0-9_.:-]+$/

export function haproxyLoadBalancer(options: HaproxyLoadBalancerOptions): HaproxyLoadBalancer {
  const opts = {
    drainTimeoutMs: 300_000,
    attachTimeoutMs: 60_000,
    pollMs: 200,
    attachPollMs: 50,
    commandTimeoutMs: 5000,
    attachChecks: 'settle' as 'settle' | 'one' | 'rise',
    ...options,
  }
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
      const servers = await resolve(targets, ctx)
      const foreign = servers.flatMap((s) => {
        const reason = foreignState(s.state, 'detach')
        return reason === undefined ? [] : [{ target: s.target, reason }]
      })
      const theirs = new Set(foreign.map((f) => f.target.id))
      // Ours in MAINT: detached before, nothing to do (idempotent). Ours in DRAIN: wait again.
      const pending = servers.filter((s) => !theirs.has(s.target.id) && !(inMaint(s.state) && marked(s.state)))
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
      const servers = await resolve(targets, ctx)
      // Someone changed it while the rollout held it out: left as found, never re-enabled.
      const foreign = servers.flatMap((s) => {
        const reason = foreignState(s.state, 'attach')
        return reason === undefined ? [] : [{ target: s.target, reason }]
      })
      const theirs = new Set(foreign.map((f) => f.target.id))
      const ours = servers.filter((s) => !theirs.has(s.target.id))
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

  async function waitForState(
    servers: Resolved[],
    ok: (s: ServerState) => boolean,
    what: string,
    by: number,
    ctx: AdapterContext,
    /** When given, a server is ready once HAProxy's `show stat` row passes this, or `ok` holds. */
    okStat?: (s: ServerStat) => boolean,
  ) {
    if (servers.length === 0) return
    const names = unique(servers.map((s) => s.state.backend))
    // Say what HAProxy saw: its status and the last health check of each late server.
    const describe = async (observed: unknown) => {
      const late = new Set((observed ?? []) as string[])
      const live = await stats(names, ctx.signal).catch(() => new Map<string, ServerStat>())
      const detail = servers
        .filter((s) => late.has(s.ref))
        .map((s) => {
          const row = live.get(s.ref)
          if (!row) return s.ref
          const check = [row.checkStatus.replace(/^\* /, ''), row.checkCode, row.checkDesc && `(${row.checkDesc})`].filter(Boolean).join(' ')
          return `${s.label}: HAProxy reports ${row.status}${check ? `, last health check ${check}` : ''}`
        })
      return `${detail.join('; ')}; left out of service`
    }
    await waitUntil(
      async () => {
        const [now, live] = await Promise.all([states(names, ctx.signal), okStat ? stats(names, ctx.signal) : undefined])
        const late = servers.filter((s) => {
          const state = now.find((n) => n.backend === s.state.backend && n.server === s.state.server)
          const row = live?.get(s.ref)
          return !(state && ok(state)) && !(row && okStat?.(row))
        })
        return late.length === 0 ? { state: 'done', value: undefined } : { state: 'retry', observed: late.map((s) => s.ref) }
      },
      // A steady poll, no backoff: HAProxy turns a server UP at a check boundary, and every
      // poll interval of lag is time the host spends out of service. `show servers state`
      // every 50 ms costs HAProxy nothing worth counting.
      {
        what: `${refsOf(servers)} to ${what}`,
        timeoutMs: Math.max(0, by - ctx.clock.now()),
        deadline: ctx.deadline,
        label: 'haproxy',
        describe,
        minDelayMs: opts.attachPollMs,
        maxDelayMs: opts.attachPollMs,
        factor: 1,
        jitter: 0,
        signal: ctx.signal,
        clock: ctx.clock,
      },
    )
  }
}

function validate(opts: Required<HaproxyLoadBalancerOptions>): readonly string[] {
  if (typeof opts.socket !== 'string' || opts.socket === '') {
    throw new ValidationError('socket', `haproxyLoadBalancer: expected a unix socket path or host:port, got ${JSON.stringify(opts.socket)}`)
  }
  const backends = typeof opts.backends === 'string' ? [opts.backends] : [...(opts.backends ?? [])]
  if (backends.length === 0 || backends.some((be) => typeof be !== 'string' || !NAME.test(be))) {
    throw new ValidationError('backends', `haproxyLoadBalancer: expected one or more HAProxy backend names, got ${JSON.stringify(opts.backends)}`)
  }
  // The core's check: it also refuses a duration above Node's timer ceiling.
  for (const key of ['drainTimeoutMs', 'attachTimeoutMs', 'pollMs', 'attachPollMs', 'commandTimeoutMs'] as const)
    checkMs(key, opts[key], { min: key === 'drainTimeoutMs' ? 0 : 1 })
  if (!['settle', 'one', 'rise'].includes(opts.attachChecks))
    throw new ValidationError('attachChecks', `haproxyLoadBalancer: expected 'settle', 'one' or 'rise', got ${JSON.stringify(opts.attachChecks)}`)
  return unique(backends)
}

interface Busy {
  server: string
  scur: number
  qcur: number
}

const toTarget = (s: ServerState): Target => ({
  id: `${s.backend}/${s.server}`,
  address: s.address,
  ...(s.port === undefined ? {} : { port: s.port }),
  labels: { backend: s.backend, server: s.server },
})
const unique = (values: readonly string[]): string[] => [...new Set(values)]
const refsOf = (servers: readonly Resolved[]): string => servers.map((s) => s.ref).join(', ')
const seconds = (ms: number): string => (ms < 1000 ? `${Math.round(ms)}ms` : `${Number((ms / 1000).toFixed(1))}s`)

// The embedded load balancer of the local fleet, for machines without HAProxy: an HTTP
// reverse proxy on undici (a keep-alive pool per backend), round robin over backends in
// service, counting each backend's in-flight requests so detach can wait for a real drain.
// With `membership` it is the data plane of another control plane (the fake ELBv2's target
// states, in the AWS-shaped fleet): new requests go only where that source says.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream/promises'
import { Pool } from 'undici'
import type { AdapterContext, AttachResult, DetachResult, Discovery, ExcludedTarget, LoadBalancer, Target } from '@org/rolling-core'
import { RollingError, TimeoutError, ValidationError } from '@org/rolling-core'
import { describeTarget, throwIfAborted, waitUntil } from '@org/rolling-core/adapter'

export interface NodeLoadBalancerOptions {
  /** The backends; each starts in service. */
  targets: readonly Target[]
  /** @default '127.0.0.1' */
  address?: string
  /** 0 picks a free port. @default 0 */
  port?: number
  /** Active check run by `attach` before a backend gets traffic again. */
  check?: {
    /** @default '/_status' */
    path?: string
    /** Time between checks. @default 200 */
    interMs?: number
    /** Consecutive 200s needed. @default 2 */
    rise?: number
    /** @default 1000 */
    timeoutMs?: number
  }
  /** Bound of detach and attach when the caller's context sets no deadline. @default 30_000 */
  defaultTimeoutMs?: number
  /**
   * An external view of which backends take new requests, asked for every request (so a
   * change is followed at once, with no polling lag). A backend gets new requests only while
   * this returns true and it is not detached; requests already in flight always finish, as
   * on an ALB whose target turns `draining`. A source that throws counts as `false`.
   * @default every backend (detach and attach alone decide)
   * @example (target) => fakeAws.state('app', instanceIds.get(target.id), target.port) === 'healthy'
   */
  membership?: (target: Target) => boolean
}

export interface BackendStats {
  id: string
  /** Taking new requests now: not detached and, with `membership`, a member. */
  inService: boolean
  inflight: number
  /** Requests answered by this backend, 502s included. */
  served: number
  /** Requests that ended in a proxy error (502). */
  errors: number
}

export interface NodeLoadBalancer extends LoadBalancer {
  inventory(ctx: AdapterContext): Promise<Discovery>
  detach(targets: readonly Target[], ctx: AdapterContext): Promise<DetachResult>
  attach(targets: readonly Target[], ctx: AdapterContext): Promise<AttachResult>
  /**
   * The operator's hand (what HAProxy's `disable server` / `state drain` / `enable server`
   * are): `maint` and `drain` take a backend out and a rollout leaves it as found; `ready`
   * puts it back in service.
   */
  operator(id: string, action: 'maint' | 'drain' | 'ready'): void
  readonly address: string
  readonly port: number
  /** `http://address:port` */
  readonly url: string
  stats(): BackendStats[]
  close(): Promise<void>
}

interface Backend extends BackendStats {
  target: Target
  pool: Pool
  /** Set by an operator (never by detach): out of service until the operator's `ready`. */
  admin?: 'maint' | 'drain' | undefined
  /** Aborts the requests in flight: how a drain that must proceed closes what is left. */
  requests: Set<AbortController>
}

// Meaningful for one connection only; never forwarded (RFC 9110, 7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host'])

export async function startNodeLoadBalancer(options: NodeLoadBalancerOptions): Promise<NodeLoadBalancer> {
  const address = options.address ?? '127.0.0.1'
  const path = options.check?.path ?? '/_status'
  const interMs = options.check?.interMs ?? 200
  const rise = options.check?.rise ?? 2
  const checkTimeoutMs = options.check?.timeoutMs ?? 1000
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000
  if (!Array.isArray(options.targets) || options.targets.length === 0) throw new ValidationError('targets', 'expected at least one backend')
  if (!Number.isInteger(rise) || rise < 1) throw new ValidationError('check.rise', `expected an integer >= 1, got ${rise}`)
  if (!Number.isFinite(interMs) || interMs < 0) throw new ValidationError('check.interMs', `expected a finite number >= 0, got ${interMs}`)
  const { membership } = options
  if (membership !== undefined && typeof membership !== 'function') throw new ValidationError('membership', `expected a function, got ${typeof membership}`)

  const backends = new Map<string, Backend>()
  for (const target of options.targets) {
    if (backends.has(target.id)) throw new ValidationError('targets', `duplicate backend id ${JSON.stringify(target.id)}`)
    if (target.port === undefined) throw new ValidationError('targets', `backend ${target.id} has no port`)
    const pool = new Pool(`http://${target.address}:${target.port}`, { connections: 128, keepAliveTimeout: 4000 })
    backends.set(target.id, { id: target.id, target: { ...target }, pool, inService: true, inflight: 0, served: 0, errors: 0, requests: new Set() })
  }
  const isMember = (backend: Backend): boolean => {
    if (!membership) return true
    try {
      return membership(backend.target) === true
    } catch {
      return false
    }
  }
  // `inService` is this load balancer's own admin state (detach/attach); membership is the other control plane's.
  const routable = (backend: Backend) => backend.inService && !backend.admin && isMember(backend)
  const theirs = (b: Backend): ExcludedTarget | undefined =>
    b.admin ? { target: { ...b.target }, reason: `${b.admin.toUpperCase()} set by an operator (not by rolling)` } : undefined
  let turn = 0
  const pick = (): Backend | undefined => {
    const live = [...backends.values()].filter(routable)
    if (live.length === 0) return undefined
    return live[turn++ % live.length]
  }

  const server = createServer((req, res) => void proxy(req, res))
  server.keepAliveTimeout = 30_000
  async function proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const backend = pick()
    if (!backend) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('no backend in service\n')
      return
    }
    backend.inflight++
    const abort = new AbortController()
    backend.requests.add(abort)
    const onClientGone = () => abort.abort(new Error('client went away'))
    res.once('close', onClientGone)
    try {
      const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined
      const upstream = await backend.pool.request({
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as 'GET',
        headers: forwardable(req.headers),
        body: hasBody ? req : null,
        signal: abort.signal,
      })
      const headers = forwardable(upstream.headers)
      headers['x-backend'] = backend.id
      res.writeHead(upstream.statusCode, headers as Record<string, string | string[]>)
      await pipeline(upstream.body, res)
    } catch (error) {
      backend.errors++
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain', 'x-backend': backend.id }).end(`bad gateway: ${(error as Error).message}\n`)
      else res.destroy()
    } finally {
      backend.served++
      backend.inflight--
      backend.requests.delete(abort)
      res.off('close', onClientGone)
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, address, () => resolve())
  })
  const port = (server.address() as AddressInfo).port

  const known = (targets: readonly Target[], what: string): Backend[] =>
    targets.map((target) => {
      const backend = backends.get(target.id)
      if (!backend) throw new RollingError('ADAPTER', `[rolling:node-lb] cannot ${what} ${describeTarget(target)}: not a backend of this load balancer`)
      return backend
    })
  const timeoutOf = (ctx: AdapterContext) => (ctx.deadline === undefined ? defaultTimeoutMs : Math.max(0, ctx.deadline - ctx.clock.now()))

  async function healthy(backend: Backend, ctx: AdapterContext): Promise<void> {
    let passes = 0
    await waitUntil(
      async () => {
        const status = await probe(backend.pool, path, checkTimeoutMs)
        passes = status === 200 ? passes + 1 : 0
        return passes >= rise ? { state: 'done', value: true } : { state: 'retry', observed: `${status === 200 ? `${passes}/${rise} checks passed` : status}` }
      },
      {
        what: `node-lb backend ${describeTarget(backend.target)} to pass ${rise} checks of ${path}`,
        timeoutMs: timeoutOf(ctx),
        minDelayMs: interMs,
        maxDelayMs: interMs,
        factor: 1,
        jitter: 0,
        signal: ctx.signal,
        clock: ctx.clock,
      },
    )
  }

  const lb: NodeLoadBalancer = {
    name: 'node-lb',
    address,
    port,
    url: `http://${address}:${port}`,

    async discover(ctx) {
      return (await lb.inventory(ctx)).targets
    },

    async inventory() {
      const all = [...backends.values()]
      return { targets: all.filter(routable).map((b) => ({ ...b.target })), excluded: all.flatMap((b) => theirs(b) ?? []) }
    },

    async detach(targets, ctx) {
      const chosen = known(targets, 'detach')
      throwIfAborted(ctx.signal)
      // Out by an operator's hand: left as found, never detached (nor attached) by a rollout.
      const foreign = chosen.flatMap((b) => theirs(b) ?? [])
      const mine = chosen.filter((b) => !b.admin)
      for (const backend of mine) backend.inService = false
      const busy = () => mine.filter((b) => b.inflight > 0)
      const timeoutMs = Math.min(ctx.drain?.timeoutMs ?? Number.POSITIVE_INFINITY, timeoutOf(ctx))
      try {
        await waitUntil(
          () =>
            busy().length === 0
              ? { state: 'done', value: true }
              : {
                  state: 'retry',
                  observed: busy()
                    .map((b) => `${b.id}: ${b.inflight} in flight`)
                    .join(', '),
                },
          { what: `node-lb to drain ${mine.map((b) => b.id).join(', ')}`, timeoutMs, minDelayMs: 20, maxDelayMs: 250, signal: ctx.signal, clock: ctx.clock },
        )
        return { foreign }
      } catch (error) {
        if (!(error instanceof TimeoutError) || !ctx.drain) throw error
        const left = busy().map((b) => ({ target: { ...b.target }, reason: `${b.id}: ${b.inflight} request(s) still in flight after ${timeoutMs} ms` }))
        if (ctx.drain.onTimeout === 'halt') return { foreign, undrained: left }
        for (const b of busy()) for (const request of b.requests) request.abort(new Error('drain timeout: closed by the load balancer'))
        return { foreign, forced: left.map((l) => ({ ...l, reason: `${l.reason}, closed` })) }
      }
    },

    async attach(targets, ctx) {
      const chosen = known(targets, 'attach')
      throwIfAborted(ctx.signal)
      // Taken out by an operator while the rollout held it: left as found.
      const foreign = chosen.flatMap((b) => theirs(b) ?? [])
      const mine = chosen.filter((b) => !b.admin)
      // Checked before routing: a backend that just restarted may still be booting.
      await Promise.all(mine.filter((b) => !b.inService).map((b) => healthy(b, ctx)))
      for (const backend of mine) if (!backend.admin) backend.inService = true
      return { foreign }
    },

    operator(id, action) {
      const [backend] = known([{ id, address: '' }], 'change the admin state of')
      if (!backend) return
      backend.admin = action === 'ready' ? undefined : action
      if (action === 'ready') backend.inService = true
    },

    stats: () => [...backends.values()].map((b) => ({ id: b.id, inService: routable(b), inflight: b.inflight, served: b.served, errors: b.errors })),

    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await Promise.all([...backends.values()].map((b) => b.pool.destroy()))
    },
  }
  return lb
}

/** The status of one GET of `path`, or the error's code when there was no answer. */
async function probe(pool: Pool, path: string, timeoutMs: number): Promise<number | string> {
  try {
    const response = await pool.request({ path, method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) })
    await response.body.dump()
    return response.statusCode
  } catch (error) {
    return (error as { code?: string }).code ?? String(error)
  }
}

function forwardable(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) out[name] = value
  return out
}

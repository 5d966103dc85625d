// tinylb: the small but real load balancer this example writes an adapter for. It proxies
// HTTP requests round-robin to healthy backends, health-checks them itself, and has a JSON
// admin API on a second port: list, add, drain, enable and remove backends.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface TinyLbBackendSpec {
  id: string
  address: string
  port: number
}

/** A backend as the admin API reports it. */
export interface TinyLbBackend extends TinyLbBackendSpec {
  /** `active` takes new requests (once healthy); `draining` takes none, its in-flight ones finish. */
  state: 'active' | 'draining'
  /** The last health check passed. Reset to false by `enable`, so only a fresh check lets traffic in. */
  healthy: boolean
  /** Requests being proxied to it right now. */
  active: number
  /**
   * Who asked for the drain (`POST /backends/:id/drain?by=NAME`), kept until `enable`: tinylb
   * records it so an adapter can tell its own drain from an operator's after a restart.
   */
  drainedBy?: string
}

export interface TinyLbOptions {
  /** Interface both ports listen on. @default '127.0.0.1' */
  host?: string
  /** Traffic port. @default 0 (a free port) */
  port?: number
  /** Admin API port. @default 0 (a free port) */
  adminPort?: number
  /** Delay between health check rounds. @default 1000 */
  checkIntervalMs?: number
  /** A check with no answer within this long fails. @default 1000 */
  checkTimeoutMs?: number
  /** Path checked on each backend; 200 means healthy. @default '/_status' */
  healthPath?: string
  backends?: readonly TinyLbBackendSpec[]
}

export interface TinyLb {
  /** Where clients send traffic: `http://127.0.0.1:<port>`. */
  url: string
  /** The admin API: `http://127.0.0.1:<adminPort>`. */
  adminUrl: string
  backends(): TinyLbBackend[]
  close(): Promise<void>
}

/** Starts tinylb; resolves once both ports listen and a first health check round is done. */
export async function startTinyLb(options: TinyLbOptions = {}): Promise<TinyLb> {
  const host = options.host ?? '127.0.0.1'
  const checkIntervalMs = options.checkIntervalMs ?? 1000
  const checkTimeoutMs = options.checkTimeoutMs ?? 1000
  const healthPath = options.healthPath ?? '/_status'
  const pool = new Map<string, TinyLbBackend>()
  for (const spec of options.backends ?? []) pool.set(spec.id, { ...spec, state: 'active', healthy: false, active: 0 })
  let next = 0
  // Responses being proxied, per backend: what `close-sessions` cuts.
  const open = new Map<string, Set<http.ServerResponse>>()

  const check = (backend: TinyLbBackend) =>
    new Promise<boolean>((resolve) => {
      const req = http.get({ host: backend.address, port: backend.port, path: healthPath, timeout: checkTimeoutMs, agent: false }, (res) => {
        res.resume()
        resolve(res.statusCode === 200)
      })
      req.on('timeout', () => req.destroy(new Error('health check timed out')))
      req.on('error', () => resolve(false))
    })
  // Bumped by `enable`: a check that started before it saw the old build and must not count.
  const epochs = new WeakMap<TinyLbBackend, number>()
  const probe = async (backend: TinyLbBackend) => {
    const epoch = epochs.get(backend) ?? 0
    const ok = await check(backend)
    if (pool.get(backend.id) === backend && (epochs.get(backend) ?? 0) === epoch) backend.healthy = ok
  }
  const checkAll = () => Promise.all([...pool.values()].map(probe))
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const loop = async () => {
    await checkAll()
    if (!stopped) timer = setTimeout(loop, checkIntervalMs)
  }

  // Round-robin over backends that are active and healthy; draining ones get nothing new.
  const pick = (): TinyLbBackend | undefined => {
    const ready = [...pool.values()].filter((b) => b.state === 'active' && b.healthy)
    if (ready.length === 0) return undefined
    return ready[next++ % ready.length]
  }

  const proxy = http.createServer((req, res) => {
    const backend = pick()
    if (!backend) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('tinylb: no healthy backend\n')
      return
    }
    backend.active++
    let done = false
    const sessions = open.get(backend.id) ?? new Set()
    open.set(backend.id, sessions)
    sessions.add(res)
    const release = () => {
      if (done) return
      done = true
      backend.active--
      sessions.delete(res)
    }
    res.on('close', release)
    const upstream = http.request(
      {
        host: backend.address,
        port: backend.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress },
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`tinylb: backend ${backend.id} failed: ${error.message}\n`)
      else res.destroy(error)
    })
    req.pipe(upstream)
  })

  const admin = http.createServer((req, res) => {
    void handleAdmin(req, res).catch((error: unknown) => json(res, 500, { error: error instanceof Error ? error.message : String(error) }))
  })

  const handleAdmin = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://tinylb')
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
    if (parts[0] !== 'backends') return json(res, 404, { error: `no such endpoint ${url.pathname}` })
    if (parts.length === 1 && req.method === 'GET') return json(res, 200, { backends: [...pool.values()] })
    const id = parts[1]
    if (id === undefined) return json(res, 405, { error: `${req.method} /backends is not allowed` })
    const backend = pool.get(id)
    if (parts.length === 2 && req.method === 'PUT') {
      const spec = (await readJson(req)) as Partial<TinyLbBackendSpec>
      if (typeof spec.address !== 'string' || !Number.isInteger(spec.port)) return json(res, 400, { error: 'expected {"address": string, "port": integer}' })
      const added: TinyLbBackend = { id, address: spec.address, port: spec.port as number, state: 'active', healthy: false, active: 0 }
      pool.set(id, added)
      void probe(added)
      return json(res, backend ? 200 : 201, added)
    }
    if (!backend) return json(res, 404, { error: `no backend ${id}` })
    if (parts.length === 2 && req.method === 'GET') return json(res, 200, backend)
    if (parts.length === 2 && req.method === 'DELETE') {
      pool.delete(id)
      return json(res, 200, backend)
    }
    if (parts.length === 3 && req.method === 'POST' && parts[2] === 'drain') {
      // The last caller signs it: an operator's drain of a backend rolling holds makes it the operator's.
      backend.drainedBy = url.searchParams.get('by') ?? 'admin'
      backend.state = 'draining'
      return json(res, 200, backend)
    }
    if (parts.length === 3 && req.method === 'POST' && parts[2] === 'close-sessions') {
      for (const session of open.get(id) ?? []) session.destroy()
      return json(res, 200, backend)
    }
    if (parts.length === 3 && req.method === 'POST' && parts[2] === 'enable') {
      if (backend.state !== 'active') {
        // A backend coming back may run a new build: its old check result proves nothing.
        backend.state = 'active'
        delete backend.drainedBy
        backend.healthy = false
        epochs.set(backend, (epochs.get(backend) ?? 0) + 1)
        void probe(backend)
      }
      return json(res, 200, backend)
    }
    return json(res, 405, { error: `${req.method} ${url.pathname} is not allowed` })
  }

  await loop()
  const port = await listen(proxy, host, options.port ?? 0)
  const adminPort = await listen(admin, host, options.adminPort ?? 0)
  return {
    url: `http://${host}:${port}`,
    adminUrl: `http://${host}:${adminPort}`,
    backends: () => [...pool.values()].map((b) => ({ ...b })),
    async close() {
      stopped = true
      clearTimeout(timer)
      await Promise.all([close(proxy), close(admin)])
    },
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  let text = ''
  for await (const chunk of req) text += String(chunk)
  try {
    return JSON.parse(text || '{}')
  } catch {
    return {}
  }
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port))
  })
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

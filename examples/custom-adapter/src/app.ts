// The service behind tinylb in this example: a tiny HTTP app that reports its build on
// `/_status` and can be restarted on a new build in place (same address and port), the
// way a real deploy restarts a process. `/slow?ms=N` holds a request open, to watch a drain.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface AppOptions {
  id: string
  version: string
  /** @default '127.0.0.1' */
  host?: string
  /** @default 0 (a free port) */
  port?: number
  /** Time between closing the old build and listening with the new one. @default 50 */
  restartMs?: number
}

export interface App {
  id: string
  address: string
  port: number
  version: string
  /** False: `/_status` answers 500 (a broken build). */
  healthy: boolean
  /** Requests served, by build. */
  served: Map<string, number>
  /** Stops the process and starts `version` on the same port; `healthy: false` makes it a bad build. */
  restart(version: string, options?: { healthy?: boolean }): Promise<void>
  close(): Promise<void>
}

export async function startApp(options: AppOptions): Promise<App> {
  const host = options.host ?? '127.0.0.1'
  const restartMs = options.restartMs ?? 50
  let server: http.Server
  const app: App = {
    id: options.id,
    address: host,
    port: options.port ?? 0,
    version: options.version,
    healthy: true,
    served: new Map(),
    async restart(version, restartOptions) {
      await closeServer(server)
      await new Promise((resolve) => setTimeout(resolve, restartMs))
      app.version = version
      app.healthy = restartOptions?.healthy ?? true
      server = await serve()
    },
    close: () => closeServer(server),
  }

  const serve = async (): Promise<http.Server> => {
    const created = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://app')
      if (url.pathname === '/_status') {
        res.writeHead(app.healthy ? 200 : 500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ id: app.id, version: app.version, ok: app.healthy }))
        return
      }
      app.served.set(app.version, (app.served.get(app.version) ?? 0) + 1)
      const reply = () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${app.id} ${app.version}\n`)
      const ms = Number(url.searchParams.get('ms') ?? 0)
      if (url.pathname === '/slow' && ms > 0) setTimeout(reply, Math.min(ms, 30_000))
      else reply()
    })
    await new Promise<void>((resolve, reject) => {
      created.once('error', reject)
      created.listen(app.port, host, () => resolve())
    })
    app.port = (created.address() as AddressInfo).port
    return created
  }

  server = await serve()
  return app
}

/** Stops accepting connections and waits for in-flight requests, as a graceful SIGTERM would. */
function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeIdleConnections()
  })
}

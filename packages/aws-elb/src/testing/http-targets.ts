// Real HTTP servers on 127.0.0.x for the fake's health checks: `/_status` answers the
// status a test sets, so a target can be made to fail its checks. And the check itself:
// one GET as ELB makes it, with ELB's reason codes for each way it fails.
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface HttpTarget {
  host: string
  port: number
  /** Status `/_status` answers; 200 passes the fake's health check. */
  status: number
}

export interface HttpTargets {
  readonly targets: readonly HttpTarget[]
  close(): Promise<void>
}

/** Starts `count` servers on 127.0.0.<firstHost>, 127.0.0.<firstHost+1>, ... (each on a free port). */
export async function startHttpTargets(count: number, options: { firstHost?: number } = {}): Promise<HttpTargets> {
  const first = options.firstHost ?? 2
  const servers: Server[] = []
  const targets: HttpTarget[] = []
  for (let i = 0; i < count; i++) {
    const host = `127.0.0.${first + i}`
    const target: HttpTarget = { host, port: 0, status: 200 }
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/_status' ? target.status : 200
      res.end(req.url === '/_status' ? JSON.stringify({ ok: target.status === 200 }) : 'ok')
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, host, () => resolve())
    })
    target.port = (server.address() as AddressInfo).port
    servers.push(server)
    targets.push(target)
  }
  return {
    targets,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections()
              s.close(() => resolve())
            }),
        ),
      )
    },
  }
}

/** What a health check saw: `ok`, or ELB's reason code and description of the failure. */
export interface FakeProbeResult {
  ok: boolean
  reason?: string
  description?: string
}

/** One health check of `host:port`: GET `path`, 200 within `timeoutMs` passes. */
export function httpProbe(host: string, port: number, check: { path: string; timeoutMs: number }): Promise<FakeProbeResult> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: check.path, timeout: check.timeoutMs, agent: false }, (res) => {
      res.resume()
      const ok = res.statusCode === 200
      resolve({ ok, reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${res.statusCode}]` })
    })
    req.on('timeout', () => {
      req.destroy()
      resolve({ ok: false, reason: 'Target.Timeout', description: 'Request timed out' })
    })
    req.on('error', () => resolve({ ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' }))
    req.end()
  })
}

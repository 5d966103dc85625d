// The HTTP health check against real node:http servers on 127.0.0.1: statuses, build info
// from JSON bodies, non-JSON bodies, hanging servers, refused ports and aborts.
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { httpHealthCheck } from '../../src/health/http.js'
import type { HttpHealthCheck } from '../../src/health/http.js'
import { testContext } from '../local/_ctx.js'

const servers: Server[] = []
const checks: HttpHealthCheck[] = []
afterEach(async () => {
  await Promise.all(checks.splice(0).map((c) => c.close()))
})
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
})

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return (server.address() as AddressInfo).port
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function check(options: Parameters<typeof httpHealthCheck>[0] = {}): HttpHealthCheck {
  const c = httpHealthCheck(options)
  checks.push(c)
  return c
}

/** A port nothing listens on: bind one, then close it. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

describe('httpHealthCheck', () => {
  it('is ok on 200 and reads version and builtAt from the JSON body', async () => {
    const seen: string[] = []
    const port = await serve((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['x-probe']}`)
      json(res, 200, { status: 'ok', version: 'v2', builtAt: '2025-01-01T00:00:00Z' })
    })
    const health = await check({ headers: { 'x-probe': 'yes' } }).check({ id: 'a', address: '127.0.0.1', port }, testContext())
    expect(health).toMatchObject({ ok: true, status: 200, version: 'v2', builtAt: '2025-01-01T00:00:00Z' })
    expect(health.detail).toBeUndefined()
    expect(health.latencyMs).toBeGreaterThanOrEqual(0)
    expect(seen).toEqual(['GET /_status yes'])
  })

  it('accepts build_time, buildTime and a nested build object', async () => {
    const bodies = [{ version: '1', build_time: 't1' }, { version: '2', buildTime: 't2' }, { build: { version: '3', builtAt: 't3' } }]
    let i = 0
    const port = await serve((_req, res) => json(res, 200, bodies[i++]))
    const c = check()
    const target = { id: 'a', address: '127.0.0.1', port }
    expect(await c.check(target, testContext())).toMatchObject({ version: '1', builtAt: 't1' })
    expect(await c.check(target, testContext())).toMatchObject({ version: '2', builtAt: 't2' })
    expect(await c.check(target, testContext())).toMatchObject({ version: '3', builtAt: 't3' })
  })

  it('uses the path, the default port and the expected status from options', async () => {
    const port = await serve((req, res) => {
      res.writeHead(req.url === '/health' ? 204 : 404)
      res.end()
    })
    const health = await check({ path: '/health', port, expectStatus: 204 }).check({ id: 'a', address: '127.0.0.1' }, testContext())
    expect(health).toMatchObject({ ok: true, status: 204 })
  })

  it('is not ok on 500, saying why', async () => {
    const port = await serve((_req, res) => json(res, 500, { version: 'v1', error: 'db down' }))
    const health = await check().check({ id: 'a', address: '127.0.0.1', port }, testContext())
    expect(health).toMatchObject({ ok: false, status: 500, version: 'v1' })
    expect(health.detail).toMatch(/^status 500 \(expected 200\): .*db down/)
  })

  it('accepts a non-JSON body without build info', async () => {
    const port = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('OK')
    })
    const health = await check().check({ id: 'a', address: '127.0.0.1', port }, testContext())
    expect(health).toEqual({ ok: true, status: 200, latencyMs: expect.any(Number) })
  })

  it('reads at most the body cap from a huge body and still answers', async () => {
    const port = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('x'.repeat(2_000_000))
    })
    const health = await check({ maxBodyBytes: 1024 }).check({ id: 'a', address: '127.0.0.1', port }, testContext())
    expect(health).toMatchObject({ ok: true, status: 200 })
  })

  it('gives up on a server that never answers within timeoutMs', async () => {
    const port = await serve(() => {
      // Never respond.
    })
    const started = performance.now()
    const health = await check({ timeoutMs: 300 }).check({ id: 'a', address: '127.0.0.1', port }, testContext())
    const elapsed = performance.now() - started
    expect(health).toMatchObject({ ok: false, detail: 'no answer within 300ms (timed out)' })
    expect(health.status).toBeUndefined()
    expect(elapsed).toBeGreaterThanOrEqual(250)
    expect(elapsed).toBeLessThan(2000)
  })

  it('gives up on a body that stalls, keeping the status', async () => {
    const port = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"version":')
    })
    const health = await check({ timeoutMs: 300 }).check({ id: 'a', address: '127.0.0.1', port }, testContext())
    expect(health).toMatchObject({ ok: false, status: 200, detail: 'no answer within 300ms (timed out)' })
  })

  it('reports a refused connection', async () => {
    const port = await freePort()
    const health = await check().check({ id: 'a', address: '127.0.0.1', port }, testContext())
    expect(health).toMatchObject({ ok: false, detail: 'connection refused (ECONNREFUSED)' })
  })

  it('brackets IPv6 addresses', async () => {
    const server = createServer((_req, res) => json(res, 200, { version: 'v6' }))
    servers.push(server)
    const listening = await new Promise<boolean>((r) => {
      server.once('error', () => r(false))
      server.listen(0, '::1', () => r(true))
    })
    if (!listening) return // no IPv6 loopback in this container
    const { port } = server.address() as AddressInfo
    expect(await check().check({ id: 'a', address: '::1', port }, testContext())).toMatchObject({ ok: true, version: 'v6' })
  })

  it('rejects with the abort reason when the caller aborts, even mid-request', async () => {
    const port = await serve(() => {})
    const c = check({ timeoutMs: 5000 })
    const ctx = testContext()
    const reason = new Error('rollout cancelled')
    const pending = c.check({ id: 'a', address: '127.0.0.1', port }, ctx)
    setTimeout(() => ctx.controller.abort(reason), 50)
    await expect(pending).rejects.toBe(reason)

    const aborted = testContext()
    aborted.controller.abort(reason)
    await expect(c.check({ id: 'a', address: '127.0.0.1', port }, aborted)).rejects.toBe(reason)
  })

  it('reuses keep-alive connections across checks', async () => {
    const sockets = new Set<unknown>()
    const port = await serve((req, res) => {
      sockets.add(req.socket)
      json(res, 200, { version: 'v1' })
    })
    const c = check()
    for (let i = 0; i < 6; i++) await c.check({ id: 'a', address: '127.0.0.1', port }, testContext())
    // undici may open a second socket when the next request starts before the previous
    // one is fully released (plain undici does the same); what matters is no socket per check.
    expect(sockets.size).toBeLessThanOrEqual(2)
  })

  it('validates options, naming them', () => {
    expect(() => httpHealthCheck({ path: 'status' })).toThrow(/`path`/)
    expect(() => httpHealthCheck({ port: 70000 })).toThrow(/`port`.*70000/)
    expect(() => httpHealthCheck({ timeoutMs: 0 })).toThrow(/`timeoutMs`/)
  })
})

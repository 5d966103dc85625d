// The app of the local fleet: a tiny HTTP server copied into every release, next to its
// release.json. Plain JavaScript so it starts fast with no build step. It shuts down
// gracefully on SIGTERM, like a well-behaved service, so rollouts can prove zero downtime.
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// Read once at start: the release a process runs never changes under it, even when
// `current` is switched to another release before the restart.
const release = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'release.json'), 'utf8'))
const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 8080)
const startupDelayMs = Number(release.startupDelayMs ?? process.env.STARTUP_DELAY_MS ?? 0)
// A broken build: `_status` answers this instead of 200.
const statusCode = Number(release.statusCode ?? 200)
const graceMs = Number(process.env.SHUTDOWN_GRACE_MS ?? 10_000)
// Builds that fail after they first answer 200: flapping, or dying a while after start.
const flapMs = Number(release.flapMs ?? 0)
const failAfterMs = Number(release.failAfterMs ?? 0)
let listeningAt = 0

function buildStatus() {
  const age = Date.now() - listeningAt
  if (failAfterMs > 0 && age >= failAfterMs) return 500
  if (flapMs > 0 && Math.floor(age / flapMs) % 2 === 1) return 500
  return statusCode
}
// A runtime knob of the host, for failure tests: while this file exists in the host folder
// (the supervisor passes it as HOST_DIR; the app runs there), `_status` answers 500.
const unhealthyFile = join(process.env.HOST_DIR ?? process.cwd(), 'unhealthy')

let inflight = 0
let shuttingDown = false

// One JSON line per lifecycle event on stdout; the supervisor reads them to time restarts.
const event = (name, extra = {}) => process.stdout.write(`${JSON.stringify({ event: name, at: Date.now(), pid: process.pid, ...extra })}\n`)

const server = createServer((req, res) => {
  inflight++
  res.once('close', () => inflight--)
  // Once shutting down, ask clients (and the load balancer's pool) not to reuse the socket.
  if (shuttingDown) res.setHeader('connection', 'close')
  const url = new URL(req.url ?? '/', 'http://app')
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' })
  if (url.pathname === '/_status') {
    const code = existsSync(unhealthyFile) ? 500 : buildStatus()
    return send(res, code, { version: release.version, builtAt: release.builtAt, inflight, pid: process.pid })
  }
  if (url.pathname === '/') return send(res, 200, { hello: 'rolling', version: release.version })
  // `/slow?ms=N`: a request that stays in flight, for drain tests.
  if (url.pathname === '/slow') {
    const ms = Math.min(Number(url.searchParams.get('ms') ?? 1000) || 0, 60_000)
    setTimeout(() => send(res, 200, { version: release.version, sleptMs: ms }), ms)
    return
  }
  // `/stream?ms=N`: a streaming response (a line every 100 ms for N ms, at most 10 min), as a
  // client holding a download or an event stream does: a drain cannot finish while it runs.
  if (url.pathname === '/stream') {
    const ms = Math.min(Number(url.searchParams.get('ms') ?? 60_000) || 0, 600_000)
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    const line = () => res.write(`${JSON.stringify({ version: release.version, pid: process.pid })}\n`)
    line()
    const tick = setInterval(line, 100)
    const end = setTimeout(() => res.end(), ms)
    res.once('close', () => {
      clearInterval(tick)
      clearTimeout(end)
    })
    return
  }
  send(res, 404, { error: 'not found' })
})
server.keepAliveTimeout = 30_000

function send(res, status, body) {
  if (shuttingDown) res.setHeader('connection', 'close')
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`)
}

process.on('SIGTERM', () => {
  if (shuttingDown) return
  shuttingDown = true
  event('sigterm', { inflight })
  // close() stops accepting and resolves once every connection is gone; idle keep-alive
  // sockets would otherwise hold it open until their timeout.
  server.close(() => {
    event('exit')
    process.exit(0)
  })
  server.closeIdleConnections()
  // Sockets that finish their request later are closed by the `connection: close` header.
  setTimeout(() => {
    event('exit', { forced: true, inflight })
    process.exit(1)
  }, graceMs).unref()
})

setTimeout(() => {
  server.listen(port, host, () => {
    listeningAt = Date.now()
    event('listening', { version: release.version, host, port })
  })
}, startupDelayMs)

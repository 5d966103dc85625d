// Test support: a real HAProxy (startHaproxy) in front of small node:http backends on
// 127.0.0.2, 127.0.0.3, ... Tests are skipped, with the reason printed, when haproxy is
// not installed, and fail when CI asked for them.
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { contractContext } from '@org/rolling-core/testing'
import type { AdapterContext } from '@org/rolling-core'
import { describe } from 'vitest'
import {
  findHaproxy,
  freePort,
  haproxyLoadBalancer,
  startHaproxy,
  type HaproxyLoadBalancerOptions,
  type HaproxyProcess,
  type StartHaproxyOptions,
} from '../src/index.js'

export const haproxyBin = findHaproxy()

if (!haproxyBin) {
  if (process.env.CI) {
    // A CI run that silently skipped these would prove nothing about the adapter.
    throw new Error('haproxy is not installed, but CI must run the HAProxy tests: install it first (apt-get install -y haproxy)')
  }
  console.warn('[rolling-haproxy tests] skipped: haproxy not found on PATH, /usr/sbin or /usr/local/sbin (apt-get install -y haproxy)')
}

/** `describe` when haproxy is installed; `describe.skip` (reason printed above) otherwise. */
export function describeHaproxy(name: string, body: () => void): void {
  describe.skipIf(!haproxyBin)(name, body)
}

export interface TestBackend {
  name: string
  address: string
  port: number
  /** What `/_status` answers; change it to make HAProxy's checks fail. */
  statusCode: number
  /** Resolves at the next `/slow` request this backend receives, with a promise of its end. */
  nextSlow(): Promise<{ finished: Promise<number> }>
  /** Open `/stream?id=` responses, by id: each has sent its first chunk and waits for `end()`. */
  streams: Map<string, http.ServerResponse>
  close(): Promise<void>
}

/** `/_status` → statusCode, `/slow?ms=N` → 200 after N ms, anything else → 200 with the backend's name. */
export async function startBackend(name: string, address: string): Promise<TestBackend> {
  const waiting: ((slow: { finished: Promise<number> }) => void)[] = []
  const backend: TestBackend = {
    name,
    address,
    port: 0,
    statusCode: 200,
    nextSlow: () => new Promise((resolve) => waiting.push(resolve)),
    streams: new Map(),
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/_status') {
      res.writeHead(backend.statusCode).end(JSON.stringify({ name }))
    } else if (url.pathname === '/slow') {
      const finished = new Promise<number>((resolve) => res.once('finish', () => resolve(Date.now())))
      for (const notify of waiting.splice(0)) notify({ finished })
      setTimeout(() => res.end(`slow ${name}`), Number(url.searchParams.get('ms') ?? 1500))
    } else if (url.pathname === '/stream') {
      // A streaming response held open until the test ends it: a client HAProxy must drain.
      const id = url.searchParams.get('id') ?? ''
      backend.streams.set(id, res)
      res.once('close', () => backend.streams.delete(id))
      res.writeHead(200, { 'content-type': 'text/plain' }).write(`${name}\n`)
    } else {
      res.end(name)
    }
  })
  server.listen(0, address)
  await once(server, 'listening')
  backend.port = (server.address() as AddressInfo).port
  return backend
}

export interface Fleet {
  haproxy: HaproxyProcess
  backends: TestBackend[]
  dir: string
  /** The adapter over this fleet's admin socket, backend `web`. */
  lb(options?: Partial<HaproxyLoadBalancerOptions>): ReturnType<typeof haproxyLoadBalancer>
  /** Sends a request through HAProxy's frontend. */
  get(pathname: string): Promise<{ status: number; body: string }>
  /**
   * Opens a streaming request through HAProxy's frontend that lands on `server` (requests
   * that land elsewhere are closed and sent again); resolves once the server streams it.
   */
  holdRequest(server: string): Promise<{ release(): Promise<void> }>
  stop(): Promise<void>
}

/** HAProxy with backend `web` of `servers` backends (s1 on 127.0.0.2, s2 on 127.0.0.3, ...), checks every 100 ms. */
export async function startFleet(options: { servers?: number; global?: (dir: string) => string[]; check?: StartHaproxyOptions['check'] } = {}): Promise<Fleet> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rh-'))
  const backends = await Promise.all(Array.from({ length: options.servers ?? 2 }, (_, i) => startBackend(`s${i + 1}`, `127.0.0.${i + 2}`)))
  const frontend = { address: '127.0.0.1', port: await freePort('127.0.0.1') }
  let haproxy: HaproxyProcess
  try {
    haproxy = await startHaproxy({
      dir,
      frontend,
      backends: [{ name: 'web', servers: backends.map((b) => ({ name: b.name, address: b.address, port: b.port })) }],
      check: { interMs: 100, rise: 2, fall: 2, ...options.check },
      global: options.global?.(dir) ?? [],
    })
  } catch (error) {
    await Promise.all(backends.map((b) => b.close()))
    throw error
  }
  const fleet: Fleet = {
    haproxy,
    backends,
    dir,
    lb: (extra) => haproxyLoadBalancer({ socket: haproxy.socket, backends: 'web', pollMs: 50, attachTimeoutMs: 5000, drainTimeoutMs: 10_000, ...extra }),
    get: async (pathname) => {
      const res = await fetch(`http://${frontend.address}:${frontend.port}${pathname}`)
      return { status: res.status, body: await res.text() }
    },
    holdRequest: async (server) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const id = `${server}-${attempt}-${Math.random().toString(36).slice(2)}`
        const req = http.request({ host: frontend.address, port: frontend.port, path: `/stream?id=${id}`, agent: false })
        req.end()
        const [res] = (await once(req, 'response')) as [http.IncomingMessage]
        const [chunk] = (await once(res, 'data')) as [Buffer]
        const landed = chunk.toString().trim()
        if (landed !== server) {
          // Ended by the backend that got it, not only dropped by the client: HAProxy notices a
          // client gone from a quiet stream late, and the stray request would hold that server
          // (one connection left) through a later test's drain.
          const stray = backends.find((b) => b.name === landed)?.streams.get(id)
          res.resume()
          const closed = once(res, 'close').catch(() => {})
          stray?.end('done\n')
          const late = setTimeout(() => req.destroy(), stray ? 5000 : 0)
          await closed
          clearTimeout(late)
          continue
        }
        const ended = once(res, 'close').catch(() => {})
        return {
          release: async () => {
            const backend = backends.find((b) => b.name === server)
            backend?.streams.get(id)?.end('done\n')
            res.resume()
            await ended
          },
        }
      }
      throw new Error(`no streaming request reached ${server} in 20 tries`)
    },
    stop: async () => {
      await haproxy.stop()
      await Promise.all(backends.map((b) => b.close()))
      await rm(dir, { recursive: true, force: true })
    },
  }
  // Wait until HAProxy has every server in service before a test starts.
  const lb = fleet.lb()
  for (let i = 0; (await lb.discover(ctx())).length < backends.length; i++) {
    if (i > 100) throw new Error('the test fleet did not come up in HAProxy within 5s')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return fleet
}

export const ctx = (extra?: Partial<AdapterContext>): AdapterContext => contractContext(undefined, extra)

/** What a promise rejected with; fails when it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection, but the call resolved')
}

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Target } from '@org/rolling-core'
import { testLoadBalancer } from '@org/rolling-core/testing/contracts'
import { startNodeLoadBalancer, type NodeLoadBalancer } from '../src/index.js'
import { context } from './support.js'

interface Backend {
  target: Target
  server: Server
  /** What `_status` answers. */
  status: number
  /** Open `/stream?id=` responses by id, each ended by the test. */
  streams: Map<string, import('node:http').ServerResponse>
}

/** Real HTTP servers on 127.0.0.2.. answering like the fleet's app: `_status`, `/slow?ms=`. */
async function backends(count: number): Promise<Backend[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const backend = { status: 200, streams: new Map() } as Backend
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x')
        const reply = (code: number) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ id: backend.target.id }))
        if (url.pathname === '/_status') return reply(backend.status)
        if (url.pathname === '/slow') return void setTimeout(() => reply(200), Number(url.searchParams.get('ms') ?? 500))
        if (url.pathname === '/stream') {
          const id = url.searchParams.get('id') ?? ''
          backend.streams.set(id, res)
          res.once('close', () => backend.streams.delete(id))
          return void res.writeHead(200, { 'content-type': 'text/plain' }).write(`${backend.target.id}\n`)
        }
        reply(200)
      })
      await new Promise<void>((resolve) => server.listen(0, `127.0.0.${i + 2}`, resolve))
      backend.server = server
      backend.target = { id: `b-${i + 1}`, address: `127.0.0.${i + 2}`, port: (server.address() as AddressInfo).port }
      return backend
    }),
  )
}

const closeAll = (list: Backend[]) => Promise.all(list.map((b) => new Promise((resolve) => b.server.close(resolve))))

testLoadBalancer({
  name: 'node-lb',
  async setup() {
    const list = await backends(3)
    const lb = await startNodeLoadBalancer({ targets: list.map((b) => b.target), check: { interMs: 50, rise: 2 } })
    return {
      lb,
      // The load balancer is its own control plane: a second handle is the same process.
      instance: () => lb,
      operator: async (target, action) => lb.operator(target.id, action),
      // A streaming response through the proxy that lands on `target` (others are closed).
      async holdRequest(target) {
        for (let attempt = 0; attempt < 20; attempt++) {
          const id = `${target.id}-${attempt}-${Math.random().toString(36).slice(2)}`
          const controller = new AbortController()
          const response = await fetch(`${lb.url}/stream?id=${id}`, { signal: controller.signal })
          if (response.headers.get('x-backend') !== target.id) {
            controller.abort()
            continue
          }
          const body = response.text().catch(() => '')
          return {
            release: async () => {
              list
                .find((b) => b.target.id === target.id)
                ?.streams.get(id)
                ?.end('done\n')
              await body
            },
          }
        }
        throw new Error(`no streaming request reached ${target.id} in 20 tries`)
      },
      async teardown() {
        await lb.close()
        await closeAll(list)
      },
    }
  },
})

describe('node-lb', () => {
  let list: Backend[]
  let lb: NodeLoadBalancer
  beforeAll(async () => {
    list = await backends(3)
    lb = await startNodeLoadBalancer({ targets: list.map((b) => b.target), check: { interMs: 50, rise: 2 } })
  })
  afterAll(async () => {
    await lb?.close()
    await closeAll(list)
  })
  const get = async (path = '/') => {
    const response = await fetch(`${lb.url}${path}`)
    await response.arrayBuffer()
    return { status: response.status, backend: response.headers.get('x-backend') }
  }

  it('round-robins over backends in service and skips detached ones', async () => {
    const seen = [] as (string | null)[]
    for (let i = 0; i < 6; i++) seen.push((await get()).backend)
    expect(new Set(seen.slice(0, 3)).size).toBe(3)
    expect(seen.slice(3)).toEqual(seen.slice(0, 3))
    const [one] = list
    if (!one) throw new Error('no backend')
    await lb.detach([one.target], context())
    for (let i = 0; i < 6; i++) expect((await get()).backend).not.toBe(one.target.id)
    await lb.attach([one.target], context())
  })

  it('detach waits for in-flight requests to finish', async () => {
    const slow = Array.from({ length: 3 }, () => get('/slow?ms=600'))
    await new Promise((resolve) => setTimeout(resolve, 100))
    const started = Date.now()
    const targets = list.map((b) => b.target).slice(0, 2)
    await lb.detach(targets, context())
    const waited = Date.now() - started
    expect(waited).toBeGreaterThan(300)
    expect(
      lb
        .stats()
        .filter((s) => !s.inService)
        .every((s) => s.inflight === 0),
    ).toBe(true)
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200, 200])
    await lb.attach(targets, context())
  })

  it('attach waits until the backend passes its checks, and times out naming it', async () => {
    const [one] = list
    if (!one) throw new Error('no backend')
    await lb.detach([one.target], context())
    one.status = 500
    const ctx = { ...context(), deadline: Date.now() + 400 }
    await expect(lb.attach([one.target], ctx)).rejects.toThrow(/b-1.*500/s)
    expect((await lb.discover(context())).map((t) => t.id)).not.toContain('b-1')
    setTimeout(() => (one.status = 200), 200)
    await lb.attach([one.target], context())
    expect((await lb.discover(context())).map((t) => t.id)).toContain('b-1')
  })

  it('answers 502 when a backend is down, 503 when none is in service', async () => {
    const dead = await startNodeLoadBalancer({ targets: [{ id: 'gone', address: '127.0.0.9', port: 9 }] })
    try {
      const response = await fetch(dead.url)
      expect(response.status).toBe(502)
      await response.arrayBuffer()
      await dead.detach(await dead.discover(context()), context())
      const none = await fetch(dead.url)
      expect(none.status).toBe(503)
      await none.arrayBuffer()
    } finally {
      await dead.close()
    }
  })
})

describe('node-lb driven by an external membership source', () => {
  let list: Backend[]
  beforeAll(async () => {
    list = await backends(3)
  })
  afterAll(async () => {
    await closeAll(list)
  })
  const get = async (lb: NodeLoadBalancer, path = '/') => {
    const response = await fetch(`${lb.url}${path}`)
    await response.arrayBuffer()
    return { status: response.status, backend: response.headers.get('x-backend') }
  }

  it('sends new requests only to members, following a change at once, and lets in-flight requests finish', async () => {
    const members = new Set(['b-1', 'b-2', 'b-3'])
    const lb = await startNodeLoadBalancer({ targets: list.map((b) => b.target), membership: (t) => members.has(t.id) })
    try {
      // Round robin: the second of three requests goes to b-2; it stays in flight for 500 ms.
      await get(lb)
      const slow = get(lb, '/slow?ms=500')
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(lb.stats().find((s) => s.id === 'b-2')).toMatchObject({ inService: true, inflight: 1 })
      members.delete('b-2')
      const seen = new Set<string | null>()
      for (let i = 0; i < 8; i++) seen.add((await get(lb)).backend)
      expect([...seen].sort()).toEqual(['b-1', 'b-3'])
      expect(lb.stats().find((s) => s.id === 'b-2')).toMatchObject({ inService: false, inflight: 1 })
      expect(await slow).toEqual({ status: 200, backend: 'b-2' })
      expect((await lb.discover(context())).map((t) => t.id)).toEqual(['b-1', 'b-3'])
      members.add('b-2')
      seen.clear()
      for (let i = 0; i < 6; i++) seen.add((await get(lb)).backend)
      expect([...seen].sort()).toEqual(['b-1', 'b-2', 'b-3'])
      // Detach still applies on top: a member that is detached gets nothing.
      await lb.detach([list[0]!.target], context())
      for (let i = 0; i < 4; i++) expect((await get(lb)).backend).not.toBe('b-1')
    } finally {
      await lb.close()
    }
  })

  it('treats a source that throws as "not a member", and answers 503 when nobody is', async () => {
    let broken = false
    const lb = await startNodeLoadBalancer({
      targets: list.map((b) => b.target),
      membership: (t) => {
        if (broken || t.id === 'b-3') throw new Error('source unavailable')
        return true
      },
    })
    try {
      for (let i = 0; i < 4; i++) expect((await get(lb)).backend).not.toBe('b-3')
      broken = true
      expect(await get(lb)).toEqual({ status: 503, backend: null })
    } finally {
      await lb.close()
    }
  })

  it('refuses a membership that is not a function, naming the option', async () => {
    await expect(startNodeLoadBalancer({ targets: list.map((b) => b.target), membership: 'healthy' as never })).rejects.toThrow(
      /membership.*expected a function, got string/,
    )
  })
})

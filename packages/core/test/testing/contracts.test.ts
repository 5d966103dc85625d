// The in-memory adapters through the shared contract suites; the Executor suite runs
// against a real `sh -c` executor, since the memory executor has no shell.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { FakeClock, memoryArtifacts, memoryHealthCheck, memoryLoadBalancer, type MemoryLoadBalancer } from '../../src/testing/index.js'
import {
  type LoadBalancerOperatorAction as OperatorAction,
  testArtifactStore,
  testExecutor,
  executorTests,
  testHealthCheck,
  testLoadBalancer,
} from '../../src/testing/contracts/index.js'
import type { Health, Target } from '../../src/types.js'
import { shExecutor } from './support/sh-executor.js'
import { expect, it } from 'vitest'

const targets = (n: number): Target[] => Array.from({ length: n }, (_, i) => ({ id: `web-${i + 1}`, address: `127.100.0.${i + 1}`, port: 8080 }))

// The memory LB's hooks: `instance` is the same object (its state is the load balancer's, not
// an adapter's memory), `holdRequest` its held connection, `operator` its operator's hand.
const memoryFixture = (lb: MemoryLoadBalancer) => ({
  lb,
  instance: () => lb,
  holdRequest: async (target: Target) => lb.holdConnection(target.id),
  operator: async (target: Target, action: OperatorAction) => lb.operator(target.id, action),
})

testLoadBalancer({
  name: 'memory',
  setup: async () => memoryFixture(memoryLoadBalancer({ targets: targets(3) })),
})

// Drains and attaches that take minutes, on a fake clock: the suite must still pass quickly.
testLoadBalancer({
  name: 'memory with slow drains on a fake clock',
  // The auto-advancing clock runs the 300 s drain timeout at once, so a held request cannot
  // outlast it; the real-clock fixture above runs that test.
  skip: ['held-request'],
  setup: async () => {
    const clock = new FakeClock()
    return { ...memoryFixture(memoryLoadBalancer({ targets: targets(4), drainMs: 300_000, attachMs: 30_000 })), ctx: { clock } }
  },
})

testArtifactStore({
  name: 'memory',
  setup: async () => {
    const store = memoryArtifacts()
    return {
      store,
      service: 'checkout',
      publish: async (version, bytes, builtAt) => store.publish('checkout', version, bytes, builtAt ? { builtAt } : {}),
      corrupt: async (artifact) => store.corrupt(artifact.service, artifact.version),
    }
  },
})

const scripted = (): Record<string, (target: Target, signal: AbortSignal) => Health | Promise<Health>> => ({
  healthy: () => ({ ok: true, status: 200, version: 'v2' }),
  failing: () => ({ ok: false, status: 500, detail: 'status 500' }),
  hanging: (_target, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
  refused: (target) => {
    throw new Error(`connect ECONNREFUSED ${target.address}:${target.port}`)
  },
})

testHealthCheck({
  name: 'memory',
  setup: async () => {
    const answers = scripted()
    const check = memoryHealthCheck({
      timeoutMs: 300,
      respond: (target, { signal }) => {
        const answer = answers[target.id]
        if (!answer) throw new Error(`no script for ${target.id}`)
        return answer(target, signal)
      },
    })
    const [healthy, failing, hanging, refused] = ['healthy', 'failing', 'hanging', 'refused'].map((id) => ({ id, address: '127.101.1.1', port: 80 }))
    return { check, healthy: healthy!, failing: failing!, hanging: hanging!, refused: refused!, expectedVersion: 'v2', timeoutMs: 300 }
  },
  additionalTests: (get) => {
    it('reports latency on the clock it was given', async () => {
      const { check, healthy } = get()
      const clock = new FakeClock({ start: 0 })
      const health = await check.check(healthy, { signal: new AbortController().signal, clock, log: console })
      expect(health.latencyMs).toBe(0)
    })
  },
})

testExecutor({
  name: 'sh -c (reference)',
  // A reference for the suite's output and quoting checks; transport faults are proven by
  // the shipped executors (local, ssh, ssm), which all run them.
  skip: [executorTests.refused, executorTests.silent, executorTests.dropped],
  setup: async () => ({ executor: shExecutor(), target: { id: 'localhost', address: '127.0.0.1' } }),
})

// The suite's own hanging/refused logic against real sockets, with a tiny HTTP health
// check written here: a server that answers 200, 500, or never, and a closed port.
testHealthCheck({
  name: 'fetch against a real server (reference)',
  setup: async () => {
    const server: Server = createServer((req, res) => {
      if (req.url === '/hang') return
      res.statusCode = req.url === '/fail' ? 500 : 200
      res.end(JSON.stringify({ version: 'v7' }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const closedPort = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const timeoutMs = 500
    const check = {
      name: 'fetch',
      async check(target: Target, ctx: { signal: AbortSignal }): Promise<Health> {
        const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)])
        try {
          const res = await fetch(`http://${target.address}:${target.port}${target.labels?.path ?? '/'}`, { signal })
          const body = (await res.json()) as { version?: string }
          return { ok: res.status === 200, status: res.status, ...(body.version ? { version: body.version } : {}) }
        } catch (error) {
          if (ctx.signal.aborted) throw ctx.signal.reason
          return { ok: false, detail: signal.aborted ? 'timeout' : String(error) }
        }
      },
    }
    const at = (id: string, path: string, p = port): Target => ({ id, address: '127.0.0.1', port: p, labels: { path } })
    return {
      check,
      healthy: at('ok', '/'),
      failing: at('fail', '/fail'),
      hanging: at('hang', '/hang'),
      refused: at('refused', '/', closedPort),
      expectedVersion: 'v7',
      timeoutMs,
      teardown: async () => {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      },
    }
  },
})

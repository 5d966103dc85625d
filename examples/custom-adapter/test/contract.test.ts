// The shared LoadBalancer contract suite, run against a real tinylb with three apps on
// loopback, plus what this adapter promises beyond the contract: drains wait for in-flight
// requests (with a deadline and the abort signal), and attach never lets a broken build in.
import { type AdapterContext, systemClock, TimeoutError, ValidationError } from '@org/rolling-core'
import { silentLogger } from '@org/rolling-core/testing'
import { testLoadBalancer } from '@org/rolling-core/testing/contracts'
import { request } from 'undici'
import { expect, it } from 'vitest'
import { TinyLbError, tinyLbLoadBalancer } from '../src/index.js'
import { startExampleFleet, type ExampleFleet } from '../src/fleet.js'

let fleet: ExampleFleet
const ctx = (extra?: Partial<AdapterContext>): AdapterContext => ({ signal: new AbortController().signal, clock: systemClock, log: silentLogger, ...extra })

/** Starts a request that the app holds open for `ms`; resolves with the backend tinylb sent it to. */
async function slowRequest(ms: number): Promise<{ backend: string; done: Promise<number>; cancel(): Promise<void> }> {
  const before = new Set(
    fleet.tinylb
      .backends()
      .filter((b) => b.active > 0)
      .map((b) => b.id),
  )
  const controller = new AbortController()
  const done = request(`${fleet.tinylb.url}/slow?ms=${ms}`, { signal: controller.signal }).then(async (response) => {
    await response.body.text()
    return response.statusCode
  })
  done.catch(() => {}) // cut by a forced drain: the tests that care await it themselves
  // The client gives up: the request ends, as a finished one would for tinylb's count.
  const cancel = async () => {
    controller.abort()
    await done.catch(() => {})
  }
  for (let i = 0; i < 100; i++) {
    const busy = fleet.tinylb.backends().find((b) => b.active > 0 && !before.has(b.id))
    if (busy) return { backend: busy.id, done, cancel }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error('the slow request never reached a backend')
}

testLoadBalancer({
  name: 'tinylb',
  setup: async () => {
    fleet = await startExampleFleet({ size: 3, checkIntervalMs: 50 })
    const make = () => tinyLbLoadBalancer({ adminUrl: fleet.tinylb.adminUrl })
    const admin = async (id: string, action: string) => {
      const response = await request(`${fleet.tinylb.adminUrl}/backends/${encodeURIComponent(id)}/${action}`, { method: 'POST' })
      await response.body.text()
    }
    return {
      lb: make(),
      // A fresh adapter over the same tinylb, as `resume` makes one.
      instance: make,
      // A real slow request through tinylb; released by the client ending it.
      holdRequest: async (target) => {
        for (let attempt = 0; attempt < 20; attempt++) {
          // Long enough to outlast the contract's waits, short enough that the app's own
          // graceful restart in a later test is not held by a request left from here.
          const slow = await slowRequest(3000)
          if (slow.backend === target.id) return { release: () => slow.cancel() }
          await slow.cancel()
        }
        throw new Error(`no slow request reached ${target.id} in 20 tries`)
      },
      // The operator's hand is tinylb's admin API (it has one way out: drain).
      operator: async (target, action) => {
        if (action !== 'ready') return admin(target.id, 'drain?by=operator')
        await admin(target.id, 'enable')
        for (let i = 0; i < 200 && !fleet.tinylb.backends().some((b) => b.id === target.id && b.healthy && b.state === 'active'); i++) {
          await new Promise((resolve) => setTimeout(resolve, 25))
        }
      },
      teardown: () => fleet.close(),
    }
  },
  additionalTests: (get) => {
    const targetOf = (id: string) => {
      const app = fleet.apps.find((a) => a.id === id)
      if (!app) throw new Error(`no app ${id}`)
      return { id, address: app.address, port: app.port }
    }

    it('detach resolves only once the in-flight request has finished', async () => {
      const slow = await slowRequest(600)
      const started = performance.now()
      await get().lb.detach([targetOf(slow.backend)], ctx())
      const waited = performance.now() - started
      try {
        expect(fleet.tinylb.backends().find((b) => b.id === slow.backend)).toMatchObject({ state: 'draining', active: 0 })
        expect(await slow.done).toBe(200) // drained, not cut off
        // The request had about 600 ms left; a detach that did not wait returns in a few ms.
        expect(waited).toBeGreaterThan(300)
      } finally {
        await get().lb.attach([targetOf(slow.backend)], ctx())
      }
    })

    it('a drain that outlasts drainTimeoutMs rejects naming the backend and what is in flight', async () => {
      const lb = tinyLbLoadBalancer({ adminUrl: fleet.tinylb.adminUrl, drainTimeoutMs: 200 })
      const slow = await slowRequest(1500)
      try {
        const error = await lb.detach([targetOf(slow.backend)], ctx()).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(TimeoutError)
        expect((error as Error).message).toMatch(
          new RegExp(`^\\[rolling:tinylb\\] timed out after 200ms waiting for ${slow.backend} to drain: ${slow.backend} is draining, healthy, 1 in flight`),
        )
        // Left draining: it takes no new requests while someone looks into it.
        expect(fleet.tinylb.backends().find((b) => b.id === slow.backend)?.state).toBe('draining')
      } finally {
        await slow.done
        await lb.attach([targetOf(slow.backend)], ctx())
      }
    })

    it('the engine deadline (ctx.deadline) cuts a drain short too', async () => {
      const slow = await slowRequest(1500)
      try {
        const started = performance.now()
        const error = await get()
          .lb.detach([targetOf(slow.backend)], ctx({ deadline: Date.now() + 250 }))
          .catch((e: unknown) => e)
        expect(error).toBeInstanceOf(TimeoutError)
        expect(performance.now() - started).toBeLessThan(1200)
      } finally {
        await slow.done
        await get().lb.attach([targetOf(slow.backend)], ctx())
      }
    })

    it('an abort during a drain rejects at once with the reason', async () => {
      const slow = await slowRequest(2000)
      const controller = new AbortController()
      const reason = new Error('operator pressed Ctrl-C')
      setTimeout(() => controller.abort(reason), 100)
      const started = performance.now()
      try {
        await expect(get().lb.detach([targetOf(slow.backend)], ctx({ signal: controller.signal }))).rejects.toBe(reason)
        expect(performance.now() - started).toBeLessThan(1000)
      } finally {
        await slow.done
        await get().lb.attach([targetOf(slow.backend)], ctx())
      }
    })

    it('attach waits for a fresh health check: a broken build never gets traffic', async () => {
      const app = fleet.apps[2]
      if (!app) throw new Error('no third app')
      const lb = tinyLbLoadBalancer({ adminUrl: fleet.tinylb.adminUrl, attachTimeoutMs: 400 })
      const traffic = fleet.traffic(2)
      try {
        await lb.detach([targetOf(app.id)], ctx())
        await app.restart('broken', { healthy: false })
        const error = await lb.attach([targetOf(app.id)], ctx()).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(TimeoutError)
        expect((error as Error).message).toContain(`timed out after 400ms waiting for ${app.id} to pass a fresh health check: ${app.id} is active, unhealthy`)
        expect((await lb.discover(ctx())).map((t) => t.id)).not.toContain(app.id)
        expect(app.served.get('broken') ?? 0).toBe(0)
      } finally {
        const counts = await traffic.stop()
        expect(counts.failed).toBe(0)
        await app.restart('v1')
        await lb.attach([targetOf(app.id)], ctx())
      }
      expect((await lb.discover(ctx())).map((t) => t.id)).toContain(app.id)
    })

    it('rejects bad options, naming the option and the value', () => {
      expect(() => tinyLbLoadBalancer({ adminUrl: 'ftp://127.0.0.1:9' })).toThrow(ValidationError)
      expect(() => tinyLbLoadBalancer({ adminUrl: 'ftp://127.0.0.1:9' })).toThrow(
        'invalid option `adminUrl`: tinyLbLoadBalancer: expected an http(s) URL of the admin API, got "ftp://127.0.0.1:9"',
      )
      expect(() => tinyLbLoadBalancer({ adminUrl: fleet.tinylb.adminUrl, drainTimeoutMs: -5 })).toThrow(
        'invalid option `drainTimeoutMs`: tinyLbLoadBalancer: expected a finite number of ms >= 1, got -5',
      )
      expect(() => tinyLbLoadBalancer({ adminUrl: fleet.tinylb.adminUrl, pollMs: Number.NaN })).toThrow('`pollMs`')
    })

    it('an unreachable admin API rejects with an error naming the URL', async () => {
      const lb = tinyLbLoadBalancer({ adminUrl: 'http://127.0.0.1:9', requestTimeoutMs: 1000 })
      const error = await lb.discover(ctx()).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TinyLbError)
      expect(error).toMatchObject({ code: 'ADAPTER', reason: 'unreachable' })
      expect((error as Error).message).toContain('[rolling:tinylb] GET http://127.0.0.1:9/backends failed')
    })
  },
})

// Attach against a real HAProxy: HAProxy's own behaviour on `state ready` (UP at once,
// on a stale check), and the adapter waiting for proof instead: the engine's settle just
// seen (default), one fresh HAProxy check, or `rise` of them.
import { TimeoutError } from '@org/rolling-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { isReady, isUp, parseServersState } from '../src/parse.js'
import { ctx, describeHaproxy, type Fleet, rejectionOf, startFleet } from './support.js'

describeHaproxy('haproxyLoadBalancer attach', () => {
  let fleet: Fleet
  beforeAll(async () => {
    fleet = await startFleet({ servers: 2, check: { interMs: 100, rise: 3 } })
  })
  afterAll(() => fleet?.stop())

  const s1 = { id: 'web/s1', address: '127.0.0.2' }
  const state = async () => parseServersState('web', await fleet.lb().api.send('show servers state web')).find((s) => s.server === 's1')!

  it('HAProxy 2.6 itself puts a server leaving MAINT straight to UP, without a fresh check', async () => {
    // The reason attach does more than `state ready`; if HAProxy changes this, revisit attach.
    const { api } = fleet.lb()
    await api.execute('set server web/s1 state maint')
    fleet.backends[0]!.statusCode = 500
    try {
      await api.execute('set server web/s1 state ready')
      const right = await state()
      expect(isReady(right)).toBe(true)
      const stat = await api.send('show stat web 4 -1')
      expect(stat).toMatch(/\nweb,s1,.*,UP 1\/2,/)
    } finally {
      fleet.backends[0]!.statusCode = 200
      await fleet.lb().attach([s1], ctx())
    }
  })

  it('does not claim UP for a server whose health check fails after deploy', async () => {
    const lb = fleet.lb({ attachTimeoutMs: 1500 })
    await lb.detach([s1], ctx())
    fleet.backends[0]!.statusCode = 500 // the "new build" is broken; HAProxy last saw L7OK
    let everReady = false
    let attaching = true
    const watch = (async () => {
      while (attaching) {
        if (isReady(await state())) everReady = true
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    const error = await rejectionOf(lb.attach([s1], ctx()))
    attaching = false
    await watch
    fleet.backends[0]!.statusCode = 200
    expect(everReady).toBe(false)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error.message).toContain('web/s1')
    expect(error.message).toMatch(/timed out after 1\.\ds waiting for .* to pass fresh health checks: /)
    // The code shows 0 while HAProxy is between two checks of the same failure; the status is what is stable.
    expect(error.message).toMatch(/last health check L7STS (500|0) /)
    // Put back where detach left it.
    const after = await state()
    expect(after.adminState & 0x01).toBe(1)
    expect((await lb.discover(ctx())).map((t) => t.id)).toEqual(['web/s2'])
  })

  /** Polls HAProxy while `attaching` and records whether s1 was ever held DOWN. */
  const watchDown = (api: ReturnType<Fleet['lb']>['api']) => {
    let attaching = true
    let down = false
    const done = (async () => {
      while (attaching) {
        const row = (await api.send('show stat web 4 -1')).split('\n').find((l) => l.startsWith('web,s1,'))
        if (row?.includes(',DOWN')) down = true
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
    return async () => {
      attaching = false
      await done
      return down
    }
  }

  it("attachChecks 'settle': a server the engine has just seen pass settle goes in at once; without that proof it waits for HAProxy's check", async () => {
    const lb = fleet.lb()
    const c = ctx()
    await lb.detach([s1], c)
    let stop = watchDown(lb.api)
    await lb.attach([s1], { ...c, seenHealthy: new Map([['web/s1', c.clock.now()]]) })
    expect(await stop()).toBe(false) // never held DOWN for a check: `health up` at once
    expect(isReady(await state())).toBe(true)
    // A pass 3 s old (or none, as after a resume) is no proof: HAProxy's own check must pass.
    await lb.detach([s1], c)
    stop = watchDown(lb.api)
    await lb.attach([s1], { ...c, seenHealthy: new Map([['web/s1', c.clock.now() - 3000]]) })
    expect(await stop()).toBe(true)
    expect(isReady(await state())).toBe(true)
  })

  it("attachChecks 'one' waits for one fresh passing check, then puts the server in service sooner than `rise` checks", async () => {
    const lb = fleet.lb({ attachChecks: 'one' })
    await lb.detach([s1], ctx())
    const stop = watchDown(lb.api)
    // Even with the engine's proof: 'one' always asks HAProxy's own check.
    await lb.attach([s1], { ...ctx(), seenHealthy: new Map([['web/s1', Date.now()]]) })
    expect(await stop()).toBe(true) // held DOWN until HAProxy's own check passed
    const now = await state()
    expect(isUp(now) && isReady(now)).toBe(true)
    const bodies = await Promise.all([1, 2, 3, 4].map(() => fleet.get('/')))
    expect(bodies.map((b) => b.body)).toContain('s1')
  })

  it("with attachChecks 'rise' waits for `rise` fresh passing checks, then puts the server in service", async () => {
    const lb = fleet.lb({ attachChecks: 'rise' })
    await lb.detach([s1], ctx())
    const started = Date.now()
    await lb.attach([s1], ctx())
    // rise 3 at inter 100 ms: three checks run after `health down`.
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
    const now = await state()
    expect(isUp(now) && isReady(now)).toBe(true)
    const bodies = await Promise.all([1, 2, 3, 4].map(() => fleet.get('/')))
    expect(bodies.map((b) => b.body)).toContain('s1')
  })

  it('is bounded by the engine deadline and honours abort', async () => {
    const lb = fleet.lb({ attachTimeoutMs: 60_000 })
    await lb.detach([s1], ctx())
    fleet.backends[0]!.statusCode = 500
    try {
      const c = ctx()
      const started = Date.now()
      const timedOut = await rejectionOf(lb.attach([s1], { ...c, deadline: c.clock.now() + 400 }))
      expect(timedOut).toBeInstanceOf(TimeoutError)
      expect(Date.now() - started).toBeLessThan(1500)
      const controller = new AbortController()
      setTimeout(() => controller.abort(new Error('stop')), 200)
      const aborted = await rejectionOf(lb.attach([s1], ctx({ signal: controller.signal })))
      expect(aborted.message).toBe('stop')
    } finally {
      fleet.backends[0]!.statusCode = 200
    }
    await lb.attach([s1], ctx())
    expect(await lb.discover(ctx())).toHaveLength(2)
  })
})

// Operator state and the drain policy against a real HAProxy: a server an operator took out
// (`disable server`, `state drain`) is excluded, never touched at detach and never
// re-enabled at attach, also by a fresh adapter instance; a drain that does not complete
// halts (listed undrained, batch-mates detached) or proceeds (`shutdown sessions server`).
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest'
import { parseServersState } from '../src/parse.js'
import { ctx, describeHaproxy, type Fleet, startFleet } from './support.js'

describeHaproxy('haproxyLoadBalancer operator state and drain policy', () => {
  let fleet: Fleet
  beforeAll(async () => {
    fleet = await startFleet({ servers: 3 })
  })
  afterAll(() => fleet?.stop())
  const target = (id: string) => ({ id, address: '127.0.0.1' })
  const admin = async (server: string) => {
    const states = parseServersState('web', await fleet.lb().api.send('show servers state web'))
    return states.find((s) => s.server === server)?.adminState
  }
  const ready = async () => (await fleet.lb().discover(ctx())).map((t) => t.id).sort()

  beforeEach(async () => {
    // Each test starts with every server in service, whatever the previous one left.
    const api = fleet.lb().api
    for (const b of fleet.backends) {
      await api.execute(`enable health web/${b.name}`)
      await api.execute(`set server web/${b.name} state ready`)
    }
    await expect.poll(ready, { timeout: 10_000 }).toEqual(fleet.backends.map((b) => `web/${b.name}`).sort())
  })

  for (const [how, command, state, bit] of [
    ['disable server', 'disable server web/s2', 'MAINT', 0x01],
    ['state drain', 'set server web/s2 state drain', 'DRAIN', 0x08],
  ] as const) {
    it(`an operator's ${how} is excluded, foreign at detach and attach, and left as found`, async () => {
      await fleet.lb().api.execute(command)
      const found = await fleet.lb().inventory?.(ctx())
      expect(found?.targets.map((t) => t.id)).not.toContain('web/s2')
      expect(found?.excluded.map((e) => e.target.id)).toEqual(['web/s2'])
      expect(found?.excluded[0]?.reason).toContain(`${state} set by an operator`)
      const detached = await fleet.lb().detach([target('web/s1'), target('web/s2')], ctx())
      expect(detached?.foreign?.map((f) => [f.target.id, f.reason.startsWith(`${state} set by an operator`)])).toEqual([['web/s2', true]])
      expect((await admin('s2')) ?? 0).toBe(bit)
      // A fresh instance, as resume makes, attaches its own and leaves the operator's.
      const attached = await fleet.lb().attach([target('web/s1'), target('web/s2')], ctx())
      expect(attached?.foreign?.map((f) => f.target.id)).toEqual(['web/s2'])
      expect(await admin('s2')).toBe(bit)
      expect(await ready()).toEqual(['web/s1', 'web/s3'])
    })
  }

  it('a server rolling holds out is its own to a fresh instance: not excluded, not foreign, attached back', async () => {
    await fleet.lb().detach([target('web/s2')], ctx())
    const found = await fleet.lb().inventory?.(ctx())
    expect(found?.excluded).toEqual([])
    expect((await fleet.lb().detach([target('web/s2')], ctx()))?.foreign ?? []).toEqual([])
    expect((await fleet.lb().attach([target('web/s2')], ctx()))?.foreign ?? []).toEqual([])
    expect(await admin('s2')).toBe(0)
    expect(await ready()).toContain('web/s2')
  })

  const holdSlow = async (ms: number) => {
    const arrivals = fleet.backends.map((b) => b.nextSlow().then((slow) => ({ id: `web/${b.name}`, ...slow })))
    const response = fleet.get(`/slow?ms=${ms}`)
    return { ...(await Promise.race(arrivals)), response }
  }

  it('drain halt: the held server is listed undrained with its connections, batch-mates detached; attach brings it back', async () => {
    const slow = await holdSlow(3000)
    const all = fleet.backends.map((b) => target(`web/${b.name}`))
    const mates = all.filter((t) => t.id !== slow.id).slice(0, 1)
    const started = Date.now()
    const result = await fleet.lb().detach([target(slow.id), ...mates], ctx({ drain: { timeoutMs: 400, onTimeout: 'halt' } }))
    expect(Date.now() - started).toBeLessThan(2500)
    expect(result?.undrained?.map((u) => u.target.id)).toEqual([slow.id])
    expect(result?.undrained?.[0]?.reason).toMatch(new RegExp(`${slow.id} \\(127\\.0\\.0\\.\\d:\\d+\\): 1 connection\\(s\\) left`))
    expect(result?.forced ?? []).toEqual([])
    expect(await admin(slow.id.slice(4))).toBe(0x08)
    expect(await admin(mates[0]?.id.slice(4) ?? '')).toBe(0x01)
    expect((await slow.response).status).toBe(200)
    const attached = await fleet.lb().attach([target(slow.id), ...mates], ctx())
    expect(attached?.foreign ?? []).toEqual([])
    expect(await ready()).toEqual(all.map((t) => t.id).sort())
  })

  it('drain proceed: the held connection is closed by shutdown sessions server and the server listed forced', async () => {
    const slow = await holdSlow(5000)
    // Handled from the start: the response is cut while detach is still running.
    const cut = slow.response.then(
      (r) => r.status,
      () => 'closed',
    )
    const result = await fleet.lb().detach([target(slow.id)], ctx({ drain: { timeoutMs: 400, onTimeout: 'proceed' } }))
    expect(result?.forced?.map((u) => u.target.id)).toEqual([slow.id])
    expect(result?.forced?.[0]?.reason).toContain('1 connection(s) left')
    expect(result?.forced?.[0]?.reason).toContain('shutdown sessions server')
    expect(await admin(slow.id.slice(4))).toBe(0x01)
    // The client saw its response cut, well before the 5 s it asked for.
    expect(await cut).not.toBe(200)
    await fleet.lb().attach([target(slow.id)], ctx())
  })
})

// The operator's state and a drain that never finishes, end to end: 4 real app processes
// behind a real HAProxy (retries 0) under steady load, batches of 2. An operator's `disable
// server` / `state drain` on a host of the later batch, made through the runtime API while
// the rollout runs, is respected (not deployed, not re-enabled, listed, its admin state
// kept). A client holding a streaming response keeps a host from draining: `halt` puts it
// back on v1 and stops; `proceed` closes it (`shutdown sessions server`) and goes on.
import { request, type IncomingMessage } from 'node:http'
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import type { RolloutOptions, RolloutResult } from '@org/rolling-core'
import type { Fleet } from '../../src/index.js'
import { status } from '../support.js'
import {
  describeServers,
  figures,
  host,
  hostId,
  inService,
  loadWithBaseline,
  outcomes,
  rollTwoByTwo,
  runtimeApiOf,
  servers,
  skip,
  skipNote,
  sleep,
  startHaproxyFleet,
  type LoadProcess,
} from './support.js'

const SIZE = 4

describe.skipIf(skip)(`e2e: the operator's state and drain timeouts, ${SIZE} hosts behind HAProxy (retries 0), batches of 2${skipNote}`, () => {
  let fleet: Fleet | undefined
  let load: LoadProcess | undefined
  const streams: IncomingMessage[] = []
  afterEach(async () => {
    for (const s of streams.splice(0)) s.destroy()
    await load?.stop()
    await fleet?.stop()
    load = undefined
    fleet = undefined
  })

  async function start(): Promise<Fleet> {
    fleet = await startHaproxyFleet(SIZE)
    await fleet.publish('v2')
    return fleet
  }

  async function rollAndWatch(f: Fleet, name: string, run: ReturnType<typeof rollTwoByTwo>) {
    const result = await run
    const during = await load?.mark()
    await sleep(2000)
    const after = await load?.mark()
    const views = await servers(f)
    if (during && after) figures(name, { during, after })
    console.info(
      `[e2e] ${name}: ${result.status} (${result.reason ?? 'no reason'}); outcomes ${JSON.stringify(outcomes(result))}; warnings ${JSON.stringify(result.warnings.map((w) => `${w.kind}:${w.target ? hostId(w.target) : ''}`))}; failed after: ${after ? after.errors + after.non2xx : '?'} of ${after?.requests}; HAProxy: ${describeServers(views)}`,
    )
    return { result, after: after as NonNullable<typeof after>, views }
  }

  const reasonOf = (result: RolloutResult, id: string) => result.targets.find((t) => hostId(t.target) === id)?.reason ?? ''
  const kinds = (result: RolloutResult) => result.warnings.map((w) => `${w.kind}:${w.target ? hostId(w.target) : ''}`)

  /** A streaming GET through HAProxy's frontend that lands on host `id` (others are closed and sent again). */
  async function holdStream(f: Fleet, id: string): Promise<IncomingMessage> {
    const pid = ((await (await fetch(`http://${host(f, id).target.address}:${host(f, id).target.port}/_status`)).json()) as { pid: number }).pid
    for (let attempt = 0; attempt < 40; attempt++) {
      const req = request({ host: f.frontend.address, port: f.frontend.port, path: '/stream?ms=120000', agent: false })
      req.end()
      const [res] = (await once(req, 'response')) as [IncomingMessage]
      const [chunk] = (await once(res, 'data')) as [Buffer]
      if ((JSON.parse(chunk.toString().split('\n')[0] ?? '{}') as { pid?: number }).pid === pid) {
        res.on('error', () => {})
        res.resume()
        streams.push(res)
        return res
      }
      res.destroy()
    }
    throw new Error(`no streaming request reached ${id} through HAProxy in 40 tries`)
  }

  for (const [how, command, state, bit] of [
    ['disable server', (s: string) => `disable server app/${s}`, 'MAINT', 0x01],
    ['set server state drain', (s: string) => `set server app/${s} state drain`, 'DRAIN', 0x08],
  ] as const) {
    it(`an operator's ${how} on a host of the later batch: not deployed, not re-enabled, listed, ${state} kept`, async () => {
      const f = await start()
      const baseline = await loadWithBaseline(f, { ms: 1500 })
      load = baseline.load
      const api = runtimeApiOf(f)
      const run = rollTwoByTwo(f)
      run.on('batch:start', ({ index }) => {
        if (index === 0) void api.execute(command('host-3'))
      })
      const { result, after, views } = await rollAndWatch(f, `operator ${how}`, run)
      expect(outcomes(result)).toMatchObject({ 'host-1': 'done', 'host-2': 'done', 'host-3': 'skipped', 'host-4': 'done' })
      expect(reasonOf(result, 'host-3')).toMatch(new RegExp(`someone else.*${state} set by an operator`))
      expect(kinds(result)).toContain('skipped:host-3')
      expect(result.status, result.reason).toBe('succeeded')
      const three = views.get('host-3')
      expect(three?.status.startsWith(state), describeServers(views)).toBe(true)
      expect((three?.admin ?? 0) & bit, describeServers(views)).toBe(bit)
      expect(await status(host(f, 'host-3').target)).toMatchObject({ code: 200, version: 'v1' })
      for (const id of ['host-1', 'host-2', 'host-4']) {
        expect(inService(views.get(id)), describeServers(views)).toBe(true)
        expect(await status(host(f, id).target)).toMatchObject({ code: 200, version: 'v2' })
      }
      expect(after.errors + after.non2xx, JSON.stringify(after.statusCodes)).toBe(0)
    })
  }

  const drain = (onTimeout: 'halt' | 'proceed'): Partial<RolloutOptions> => ({ drain: { timeout: 2000, onTimeout } })

  it("a host whose drain never completes, onTimeout 'halt': its batch-mate is done, it is back in service on v1 and named, no further batch", async () => {
    const f = await start()
    const baseline = await loadWithBaseline(f, { ms: 1500 })
    load = baseline.load
    const stream = await holdStream(f, 'host-1')
    const { result, after, views } = await rollAndWatch(f, 'drain never completes, halt', rollTwoByTwo(f, drain('halt')))
    expect(result.status).toBe('halted')
    expect(result.reason).toMatch(/host-1.*1 connection\(s\) left/)
    expect(outcomes(result)).toEqual({ 'host-1': 'skipped', 'host-2': 'done', 'host-3': 'pending', 'host-4': 'pending' })
    expect(inService(views.get('host-1')), describeServers(views)).toBe(true)
    expect(await status(host(f, 'host-1').target)).toMatchObject({ code: 200, version: 'v1' })
    expect(await status(host(f, 'host-2').target)).toMatchObject({ code: 200, version: 'v2' })
    for (const id of ['host-3', 'host-4']) expect(await status(host(f, id).target)).toMatchObject({ code: 200, version: 'v1' })
    // The client's stream was never cut.
    expect(stream.destroyed).toBe(false)
    expect(after.errors + after.non2xx, JSON.stringify(after.statusCodes)).toBe(0)
  })

  it("the same with onTimeout 'proceed': the session is shut, a forced-drain warning, the deploy goes on and succeeds", async () => {
    const f = await start()
    const baseline = await loadWithBaseline(f, { ms: 1500 })
    load = baseline.load
    const stream = await holdStream(f, 'host-1')
    // `close` (the reset HAProxy's shutdown causes is an `error` first, handled in holdStream).
    const cut = new Promise<boolean>((resolve) => stream.once('close', () => resolve(true)))
    const warned: string[] = []
    const run = rollTwoByTwo(f, drain('proceed'))
    run.on('warning', ({ message, target }) => warned.push(`${target ? hostId(target) : ''}: ${message}`))
    const { result, after, views } = await rollAndWatch(f, 'drain never completes, proceed', run)
    expect(result.status, result.reason).toBe('succeeded')
    expect(kinds(result)).toEqual(['forced-drain:host-1'])
    expect(
      warned.some((w) => /^host-1: .*1 connection\(s\) left.*closed by `shutdown sessions server`/.test(w)),
      warned.join('\n'),
    ).toBe(true)
    expect(await Promise.race([cut, sleep(1000).then(() => false)])).toBe(true)
    for (const id of ['host-1', 'host-2', 'host-3', 'host-4']) {
      expect(inService(views.get(id)), describeServers(views)).toBe(true)
      expect(await status(host(f, id).target)).toMatchObject({ code: 200, version: 'v2' })
    }
    expect(after.errors + after.non2xx, JSON.stringify(after.statusCodes)).toBe(0)
  })
})

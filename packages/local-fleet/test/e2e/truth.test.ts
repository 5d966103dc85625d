// The result tells the truth, end to end: 4 real app processes behind a real HAProxy
// (retries 0) under steady load, batches of 2, polling settle of 2 successes, as the outside
// testers ran them. Builds that fail after they first answer 200, a restart that leaves
// the old process serving, an abort mid-settle. Each asserts the status, every target's
// outcome and reason, HAProxy's final state, and that no request failed after the rollout.
import { afterEach, describe, expect, it } from 'vitest'
import type { RolloutOptions, RolloutResult } from '@org/rolling-core'
import type { Fleet, ReleaseOptions } from '../../src/index.js'
import { status } from '../support.js'
import {
  SETTLE,
  describeServers,
  figures,
  host,
  hostId,
  inMaint,
  inService,
  loadWithBaseline,
  outcomes,
  recipeWith,
  rollTwoByTwo,
  servers,
  skip,
  skipNote,
  sleep,
  startHaproxyFleet,
  type LoadProcess,
} from './support.js'

const SIZE = 4

describe.skipIf(skip)(`e2e: the result tells the truth, ${SIZE} hosts behind HAProxy (retries 0), batches of 2${skipNote}`, () => {
  let fleet: Fleet | undefined
  let load: LoadProcess | undefined
  afterEach(async () => {
    await load?.stop()
    await fleet?.stop()
    load = undefined
    fleet = undefined
  })

  async function start(build: ReleaseOptions = {}): Promise<Fleet> {
    fleet = await startHaproxyFleet(SIZE)
    await fleet.publish('v2', build)
    return fleet
  }

  /** Rolls with `extra`, then measures 2 s of load after the end: what users see once it says it is done. */
  async function rollAndWatch(f: Fleet, name: string, extra: Partial<RolloutOptions>) {
    const baseline = await loadWithBaseline(f, { ms: 1500 })
    load = baseline.load
    const result = await rollTwoByTwo(f, extra)
    const during = await load.mark()
    await sleep(2000)
    const after = await load.mark()
    const views = await servers(f)
    figures(name, { before: baseline.before, during, after })
    console.info(
      `[e2e] ${name}: ${result.status} (${result.reason ?? 'no reason'}); outcomes ${JSON.stringify(outcomes(result))}; failed after: ${after.errors + after.non2xx} of ${after.requests}; HAProxy: ${describeServers(views)}`,
    )
    return { result, after, views }
  }

  const reasonOf = (result: RolloutResult, id: string) => result.targets.find((t) => hostId(t.target) === id)?.reason ?? ''

  it('a flapping build (200/500 every 500 ms) ends halted with settle.hold, the flapping hosts out, no request failing after', async () => {
    const f = await start({ flapMs: 500 })
    const { result, after, views } = await rollAndWatch(f, 'flapping build', { settle: { ...SETTLE, hold: 2000 } })
    expect(result.status, result.reason).toBe('halted')
    expect(outcomes(result)).toEqual({ 'host-1': 'failed', 'host-2': 'failed', 'host-3': 'pending', 'host-4': 'pending' })
    for (const id of ['host-1', 'host-2']) {
      expect(reasonOf(result, id)).toMatch(/hold/)
      expect(inMaint(views.get(id)), describeServers(views)).toBe(true)
    }
    for (const id of ['host-3', 'host-4']) {
      expect(inService(views.get(id)), describeServers(views)).toBe(true)
      expect(await status(host(f, id).target)).toMatchObject({ code: 200, version: 'v1' })
    }
    expect(result.needsAttention.map(hostId).sort()).toEqual(['host-1', 'host-2'])
    expect(after.errors + after.non2xx, JSON.stringify(after.statusCodes)).toBe(0)
  })

  it('a build that dies 1 s after it starts is caught before the next batch: halted, the fleet still serving', async () => {
    const f = await start({ failAfterMs: 1000 })
    const { result, after, views } = await rollAndWatch(f, 'dies after 1 s', { settle: { ...SETTLE, hold: 1500 } })
    expect(result.status, result.reason).toBe('halted')
    expect(outcomes(result)).toMatchObject({ 'host-1': 'failed', 'host-2': 'failed', 'host-3': 'pending', 'host-4': 'pending' })
    expect(inMaint(views.get('host-1')), describeServers(views)).toBe(true)
    expect(inService(views.get('host-3')), describeServers(views)).toBe(true)
    expect(after.errors + after.non2xx, JSON.stringify(after.statusCodes)).toBe(0)
  })

  it('a restart that exits 0 while the old process keeps serving fails settle (still running v1): halted, that host out and listed', async () => {
    const f = await start()
    const stale = 'host-2'
    const recipe = recipeWith(f, async (args, real) => {
      if (hostId(args.target) !== stale) await real()
    })
    const { result, after, views } = await rollAndWatch(f, 'old process keeps serving', { deploy: recipe, settle: { ...SETTLE, deadline: 3000 } })
    expect(result.status, result.reason).toBe('halted')
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'failed', 'host-3': 'pending', 'host-4': 'pending' })
    expect(reasonOf(result, stale)).toMatch(/still running v1 .*expected v2/)
    expect(result.needsAttention.map(hostId)).toEqual([stale])
    expect(inMaint(views.get(stale)), describeServers(views)).toBe(true)
    expect(await status(host(f, 'host-1').target)).toMatchObject({ code: 200, version: 'v2' })
    expect(after.errors + after.non2xx, JSON.stringify(after.statusCodes)).toBe(0)
  })

  it('an abort during a polling settle reports a host still on v1 as restored, back in service', async () => {
    const f = await start()
    const stale = 'host-1'
    const recipe = recipeWith(f, async (args, real) => {
      if (hostId(args.target) !== stale) await real()
    })
    const controller = new AbortController()
    const baseline = await loadWithBaseline(f, { ms: 1500 })
    load = baseline.load
    const run = rollTwoByTwo(f, { deploy: recipe, settle: { interval: 1000, successes: 3 }, signal: controller.signal })
    run.on('target:deployed', ({ target }) => {
      if (hostId(target) === stale) setTimeout(() => controller.abort(), 1500)
    })
    const result = await run
    await sleep(1000)
    const after = await load.mark()
    const views = await servers(f)
    console.info(
      `[e2e] abort mid-settle: ${result.status}; ${stale}: ${outcomes(result)[stale]} (${reasonOf(result, stale)}); HAProxy: ${describeServers(views)}`,
    )
    expect(result.status).toBe('aborted')
    expect(outcomes(result)[stale]).toBe('restored')
    expect(reasonOf(result, stale)).toMatch(/aborted during settle; healthy on v1/)
    expect(inService(views.get(stale)), describeServers(views)).toBe(true)
    expect(after.errors + after.non2xx, JSON.stringify(after.statusCodes)).toBe(0)
  })
})

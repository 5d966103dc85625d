// Rollout control end to end: real app processes behind a real HAProxy (retries 0) under
// steady load. One fleet of 4 takes, in turn, a gate that fails after batch 1 (an HTTP
// metrics endpoint on loopback), a pause after the canary approved by `rolling approve` in
// a child process, one aborted by `rolling abort`, a failure budget of 1 with a host whose
// deploy breaks, and a deadline that passes mid-batch. A fleet of 9 in 3 zones is sampled
// from HAProxy's own state during the run: never two zones out at once.
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { type LoadBalancer, type Target, httpGate } from '@org/rolling-core'
import type { Fleet } from '../../src/index.js'
import { rolloutOn } from '../support.js'
import {
  SETTLE,
  describeServers,
  figures,
  hostId,
  inMaint,
  inService,
  loadWithBaseline,
  outcomes,
  recipeWith,
  servers,
  skip,
  skipNote,
  sleep,
  startHaproxyFleet,
  type LoadProcess,
} from './support.js'

const CLI_ROOT = fileURLToPath(new URL('../../../cli/', import.meta.url))
const TSX = pathToFileURL(createRequire(join(CLI_ROOT, 'package.json')).resolve('tsx')).href

/** `rolling <argv>` from source in a child process, as another terminal would run it. */
async function rolling(argv: string[], cwd: string): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, ['--conditions', '@org/source', '--import', TSX, join(CLI_ROOT, 'src/bin.ts'), ...argv], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ROLLING_ACTOR: 'e2e' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d) => {
    out += d
  })
  child.stderr.on('data', (d) => {
    out += d
  })
  const [code] = (await once(child, 'exit')) as [number]
  return { code, out }
}

describe.skipIf(skip)(`e2e: gates, pause, failure budget, deadline, zones behind HAProxy (retries 0)${skipNote}`, () => {
  const open: { fleet?: Fleet; load?: LoadProcess; metrics?: Server }[] = []
  afterAll(async () => {
    for (const o of open) {
      await o.load?.stop()
      await o.fleet?.stop()
      o.metrics?.close()
    }
  })

  it('one fleet of 4: a gate halts after batch 1, a pause is approved then aborted from another process, a budget of 1, a deadline', async () => {
    const fleet = await startHaproxyFleet(4)
    const slot: (typeof open)[number] = { fleet }
    open.push(slot)
    const state = join(fleet.dir, 'state')
    const { load, before } = await loadWithBaseline(fleet, { ms: 1500 })
    slot.load = load

    // 1. The gate: a metrics endpoint that reports errors once batch 1 is in.
    let errors = 0
    slot.metrics = createServer((_req, res) => res.end(JSON.stringify({ errors })))
    slot.metrics.listen(0, '127.0.0.1')
    await once(slot.metrics, 'listening')
    const { port } = slot.metrics.address() as { port: number }
    const gate = httpGate({ name: 'metrics', url: `http://127.0.0.1:${port}/`, expect: { json: { errors: 0 } }, interval: 100 })
    await fleet.publish('v2')
    let run = rolloutOn(fleet, { batch: 1, settle: SETTLE, gates: [gate], bake: 300 })
    run.on('target:attached', () => {
      errors = 3
    })
    let result = await run
    const gated = await load.mark()
    let views = await servers(fleet)
    expect(result.status, result.reason).toBe('halted')
    expect(result.reason).toMatch(/^gate metrics failed after batch 1 of 4: GET http:\/\/127.0.0.1:\d+\/: errors is 3 \(expected 0\)$/)
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'pending', 'host-3': 'pending', 'host-4': 'pending' })
    expect([...views.values()].every(inService), describeServers(views)).toBe(true)
    expect(gated.errors + gated.non2xx, JSON.stringify(gated.statusCodes)).toBe(0)
    await gate.close()

    // 2. Pause after the canary, approved by `rolling approve` from a child process.
    run = rolloutOn(fleet, { batch: 1, settle: SETTLE, pause: { after: [1] } })
    const approved = new Promise<{ code: number; out: string }>((resolve) =>
      run.on('pause:start', () => resolve(rolling(['approve', 'app', '--state-dir', state, '--note', 'canary-ok'], fleet.dir))),
    )
    result = await run
    const approve = await approved
    expect(approve.out).toMatch(/approval sent to run r-\S+ of app \(paused after batch 1\)/)
    expect(approve.code, approve.out).toBe(0)
    expect(result.status, result.reason).toBe('succeeded')
    expect(result.pauses).toMatchObject([{ index: 0, how: 'approved', note: 'canary-ok' }])
    expect(result.pauses?.[0]?.by).toMatch(/^e2e@/)

    // 3. ... and one aborted by `rolling abort`: nothing after the canary, all in service.
    await fleet.publish('v3')
    run = rolloutOn(fleet, { batch: 1, settle: SETTLE, pause: { after: [1] } })
    const aborted = new Promise<{ code: number; out: string }>((resolve) =>
      run.on('pause:start', () => resolve(rolling(['abort', 'app', '--state-dir', state], fleet.dir))),
    )
    result = await run
    expect((await aborted).code).toBe(0)
    expect(result.status).toBe('aborted')
    expect(result.reason).toMatch(/rolling abort by e2e@\S+ after batch 1/)
    expect(Object.values(outcomes(result))).toEqual(['done', 'pending', 'pending', 'pending'])
    views = await servers(fleet)
    expect([...views.values()].every(inService), describeServers(views)).toBe(true)

    // 4. A failure budget of 1 with one broken host: it goes on, ends degraded, host-3 out and listed.
    await fleet.publish('v4')
    const broken = recipeWith(fleet, async (args, real) => {
      if (hostId(args.target) === 'host-3') throw new Error('disk full')
      await real()
    })
    result = await rolloutOn(fleet, { batch: 2, settle: SETTLE, maxFailures: 1, deploy: broken })
    views = await servers(fleet)
    expect(result.status, result.reason).toBe('degraded')
    expect(outcomes(result)).toEqual({ 'host-1': 'done', 'host-2': 'done', 'host-3': 'failed', 'host-4': 'done' })
    expect(result.needsAttention.map(hostId)).toEqual(['host-3'])
    expect(inMaint(views.get('host-3')), describeServers(views)).toBe(true)

    // 5. A deadline that passes mid-batch: the batch finishes, nothing new starts, all in service.
    await fleet.publish('v5')
    const slow = recipeWith(fleet, async (_args, real) => {
      await sleep(1500)
      await real()
    })
    result = await rolloutOn(fleet, { batch: 2, settle: SETTLE, deadline: 1000, deploy: slow, redeploy: true })
    const during = await load.mark()
    views = await servers(fleet)
    expect(result.status).toBe('aborted')
    expect(result.reason).toMatch(/the rollout's deadline of 1s passed/)
    // host-3, left out by the budget, is not a candidate: batches [host-1, host-2], [host-4].
    expect(outcomes(result)).toMatchObject({ 'host-4': 'pending' })
    // The in-flight batch ended in service: its deploys finished, then the abort put them back healthy.
    for (const t of result.targets.filter((r) => r.batch === 0)) expect(['done', 'restored']).toContain(t.outcome)
    for (const id of ['host-1', 'host-2']) expect(inService(views.get(id)), describeServers(views)).toBe(true)
    figures('control', { before, gated, during })
    expect(during.errors + during.non2xx, JSON.stringify(during.statusCodes)).toBe(0)
  })

  it('zones 3x3: every batch holds one zone, and HAProxy never has two zones out at once', async () => {
    const fleet = await startHaproxyFleet(9)
    open.push({ fleet })
    await fleet.publish('v2')
    const zoneOf = (id: string) => ['a', 'b', 'c'][(Number(id.replace(/\D/g, '')) - 1) % 3] as string
    const label = (t: Target): Target => ({ ...t, labels: { ...t.labels, zone: zoneOf(hostId(t)) } })
    // The zone label an ELBv2 adapter reads from the instance's Availability Zone, added here.
    const lb: LoadBalancer = {
      ...fleet.lb,
      discover: async (ctx) => (await fleet.lb.discover(ctx)).map(label),
      ...(fleet.lb.inventory
        ? {
            inventory: async (ctx) => {
              const found = await (fleet.lb.inventory as NonNullable<LoadBalancer['inventory']>)(ctx)
              return { ...found, targets: found.targets.map(label) }
            },
          }
        : {}),
    }
    const outAtOnce: string[][] = []
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const views = await servers(fleet)
        const out = [...new Set([...views].filter(([, v]) => !inService(v)).map(([id]) => zoneOf(id)))]
        if (out.length > 0) outAtOnce.push(out)
        await sleep(50)
      }
    })()
    const result = await rolloutOn(fleet, { loadBalancer: lb, batch: 3, settle: SETTLE, zones: { label: 'zone' } })
    sampling = false
    await sampler
    expect(result.status, result.reason).toBe('succeeded')
    expect(outAtOnce.length).toBeGreaterThan(0)
    expect(outAtOnce.filter((zones) => zones.length > 1)).toEqual([])
    expect(new Set(outAtOnce.map((z) => z[0]))).toEqual(new Set(['a', 'b', 'c']))
  })
})

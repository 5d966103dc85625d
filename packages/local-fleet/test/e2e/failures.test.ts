// Failures, end to end, behind a real HAProxy (retries 0) under steady load: a new build
// that never turns healthy, a host already sick before the deploy, hosts that silently
// keep the old build. Each checks what a user relies on: the rollout's status, who is
// named in the result, what HAProxy shows for each server, and that no request failed.
import { existsSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sh } from '@org/rolling-core'
import { waitUntil } from '@org/rolling-core/adapter'
import { STOPPED_FILE, UNHEALTHY_FILE, type Fleet } from '../../src/index.js'
import { status } from '../support.js'
import {
  SETTLE,
  SIZE,
  RATE,
  describeServers,
  figures,
  frontendStatuses,
  host,
  hostId,
  ids,
  inMaint,
  inService,
  loadWithBaseline,
  outcomeOf,
  outcomes,
  recipeWith,
  rollTwoByTwo,
  servers,
  skip,
  skipNote,
  fleetPerTest,
} from './support.js'

const current = (fleet: Fleet, id: string) => readlinkSync(join(host(fleet, id).dir, 'current'))

describe.skipIf(skip)(`e2e: failures during a rollout behind HAProxy (retries 0), ${SIZE} hosts, ${RATE} req/s${skipNote}`, () => {
  const { start, track } = fleetPerTest()

  it('halts when a new build never answers 200 on _status: that host left in MAINT and named in needsAttention, the rest serving, no failed request', async () => {
    const fleet = await start()
    const bad = 'host-3' // batch 2 of 5, with host-4
    const pids = new Map(fleet.hosts.map((h) => [h.id, h.pid]))
    // The build itself is fine; on this host, the deploy also flips the host's knob that
    // makes `_status` answer 500, before the restart: the new process never reports healthy.
    const recipe = recipeWith(fleet, async (args, real) => {
      if (hostId(args.target) === bad) await args.exec(sh`touch ${UNHEALTHY_FILE}`)
      await real()
    })
    const baseline = await loadWithBaseline(fleet, { ms: 2000 })
    const load = track(baseline.load)
    const result = await rollTwoByTwo(fleet, { deploy: recipe, settle: { ...SETTLE, deadline: 5000 } })
    const during = await load.mark()
    const codes = await frontendStatuses(fleet)
    const whole = await load.stop()
    figures('new build never healthy', { before: baseline.before, during, whole })
    console.info(`[e2e] new build never healthy: ${result.status} (${result.reason}); needsAttention ${ids(result.needsAttention).join(', ')}`)

    expect(result.status, result.reason).toBe('halted')
    expect(result.reason).toContain(bad)
    expect(ids(result.needsAttention)).toEqual([bad])
    expect(outcomes(result)).toEqual({
      'host-1': 'done',
      'host-2': 'done',
      'host-3': 'failed',
      'host-4': 'done',
      ...Object.fromEntries(fleet.hosts.slice(4).map((h) => [h.id, 'pending'])),
    })
    // Left for a human: out of HAProxy (MAINT), still on the new build that answers 500.
    const views = await servers(fleet)
    expect(inMaint(views.get(bad)), describeServers(views)).toBe(true)
    expect(current(fleet, bad)).toBe('releases/v2')
    expect(await status(host(fleet, bad).target)).toMatchObject({ code: 500, version: 'v2' })
    // Everyone else serves: the done ones on v2, the never-reached ones untouched on v1.
    for (const h of fleet.hosts.filter((h) => h.id !== bad)) {
      expect(inService(views.get(h.id)), `${h.id}: ${describeServers(views)}`).toBe(true)
      const reached = ['host-1', 'host-2', 'host-4'].includes(h.id)
      expect(current(fleet, h.id)).toBe(reached ? 'releases/v2' : 'releases/v1')
      if (!reached) expect(h.pid).toBe(pids.get(h.id))
    }
    expect(
      codes.every((c) => c === 200),
      `frontend answered ${codes.join(',')}`,
    ).toBe(true)
    // The sick host never got a user request: nothing failed over the whole run.
    expect(whole.errors).toBe(0)
    expect(whole.non2xx, JSON.stringify(whole.statusCodes)).toBe(0)
  })

  it('skips a host whose _status is 500 before the deploy: named as skipped, not touched (still v1, same process, never put in MAINT)', async () => {
    const fleet = await start()
    const sick = host(fleet, 'host-3')
    const pid = sick.pid
    const processes = sick.processes.length
    const baseline = await loadWithBaseline(fleet, { ms: 2000 })
    const load = track(baseline.load)
    const run = rollTwoByTwo(fleet)
    // Sick right after discovery: HAProxy listed it in service, the pre-check must catch it.
    run.on('plan', () => writeFileSync(join(sick.dir, UNHEALTHY_FILE), ''))
    const result = await run
    const during = await load.mark()
    const views = await servers(fleet)
    const whole = await load.stop()
    figures('sick before deploy', { before: baseline.before, during, whole })
    const report = result.targets.find((t) => hostId(t.target) === sick.id)
    console.info(`[e2e] sick before deploy: ${result.status}; ${sick.id} ${report?.outcome} (${report?.reason}); HAProxy: ${describeServers(views)}`)

    // A skipped host does not fail the rollout; the result names it and says why.
    expect(result.status, result.reason).toBe('succeeded')
    expect(report?.outcome).toBe('skipped')
    expect(report?.reason).toMatch(/pre-check/)
    expect(result.needsAttention).toEqual([])
    expect(result.warnings).toEqual([expect.objectContaining({ kind: 'skipped', message: expect.stringMatching(/pre-check failed/) })])
    // Not touched: same build on disk, same process, no `previous` link written.
    expect(current(fleet, sick.id)).toBe('releases/v1')
    expect(existsSync(join(sick.dir, 'previous'))).toBe(false)
    expect(sick.pid).toBe(pid)
    expect(sick.processes.length).toBe(processes)
    // Never detached: the rollout never set it to MAINT or DRAIN (admin state 0); only
    // HAProxy's own health check took it out of rotation (DOWN) ...
    const view = views.get(sick.id)
    expect(view?.admin, describeServers(views)).toBe(0)
    expect(inMaint(view)).toBe(false)
    // ... so once `_status` answers 200 again, HAProxy puts it back by itself: a server the
    // rollout had left in MAINT would stay out.
    rmSync(join(sick.dir, UNHEALTHY_FILE))
    await waitUntil(async () => (inService((await servers(fleet)).get(sick.id)) ? { state: 'done', value: true } : { state: 'retry' }), {
      what: `${sick.id} back UP in HAProxy on its own`,
      timeoutMs: 5000,
      minDelayMs: 100,
    })
    expect(await status(sick.target)).toMatchObject({ code: 200, version: 'v1', pid })
    for (const h of fleet.hosts.filter((h) => h.id !== sick.id)) {
      expect(outcomeOf(result, h.id)).toBe('done')
      expect(current(fleet, h.id)).toBe('releases/v2')
      expect(inService(views.get(h.id)), `${h.id}: ${describeServers(views)}`).toBe(true)
    }
    expect(whole.errors).toBe(0)
    expect(whole.non2xx, JSON.stringify(whole.statusCodes)).toBe(0)
  })

  const staleCases = [
    { stale: ['host-2', 'host-7'], status: 'succeeded' },
    { stale: ['host-1', 'host-4', 'host-6', 'host-9'], status: 'failed' },
  ] as const
  for (const { stale, status: expected } of staleCases) {
    it(`verify stops ${stale.length} hosts that silently kept the old build (detached to MAINT, app stopped): rollout ${expected}${
      expected === 'failed' ? ' (more than maxStopped 3)' : ''
    }, no failed request`, async () => {
      const fleet = await start()
      // The deploy "succeeds" on these hosts but changes nothing: they keep serving v1.
      const recipe = recipeWith(fleet, async (args, real) => {
        if (!(stale as readonly string[]).includes(hostId(args.target))) await real()
      })
      const baseline = await loadWithBaseline(fleet, { ms: 2000 })
      const load = track(baseline.load)
      // settle.requireBuild off: settle takes their 200 from v1 (with it on, the default, they
      // fail settle: truth.test.ts), so it is verify, reading the build through the recipe, that finds them.
      const run = rollTwoByTwo(fleet, { deploy: recipe, settle: { ...SETTLE, requireBuild: false } })
      const stoppedAt: string[] = []
      run.on('target:stopped', ({ target }) => stoppedAt.push(hostId(target)))
      const result = await run
      const during = await load.mark()
      const views = await servers(fleet)
      const whole = await load.stop()
      figures(`${stale.length} stale hosts`, { before: baseline.before, during, whole })
      console.info(`[e2e] ${stale.length} stale hosts: ${result.status} (${result.reason ?? 'no reason'}); HAProxy: ${describeServers(views)}`)

      expect(result.status, result.reason).toBe(expected)
      if (expected === 'failed') expect(result.reason).toMatch(/maxStopped \(3\)/)
      expect(stoppedAt.sort()).toEqual([...stale].sort())
      for (const h of fleet.hosts) {
        if ((stale as readonly string[]).includes(h.id)) {
          expect(outcomeOf(result, h.id)).toBe('stopped')
          expect(inMaint(views.get(h.id)), `${h.id}: ${describeServers(views)}`).toBe(true)
          // Stopped gracefully and kept down: no process, the recipe's `stopped` marker in place.
          expect(h.pid).toBeUndefined()
          expect(existsSync(join(h.dir, STOPPED_FILE))).toBe(true)
          expect(h.processes.at(-1)?.exitCode).toBe(0)
          expect(current(fleet, h.id)).toBe('releases/v1')
        } else {
          expect(outcomeOf(result, h.id)).toBe('done')
          expect(inService(views.get(h.id)), `${h.id}: ${describeServers(views)}`).toBe(true)
          expect(await status(h.target)).toMatchObject({ code: 200, version: 'v2' })
        }
      }
      // Stopping detaches (drains) first: no user request hit a stopping app.
      expect(whole.errors).toBe(0)
      expect(whole.non2xx, JSON.stringify(whole.statusCodes)).toBe(0)
    })
  }
})

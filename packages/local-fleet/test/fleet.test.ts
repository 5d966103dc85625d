import { existsSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RollingError, systemClock, type Artifact } from '@org/rolling-core'
import { waitUntil } from '@org/rolling-core/adapter'
import { haproxyAvailable, startFleet, type Fleet } from '../src/index.js'
import { context, processState, processesMentioning, rolloutOn, status, stepArgs } from './support.js'

describe('local fleet (node load balancer)', () => {
  let fleet: Fleet
  let stopped = false
  let v2: Artifact

  beforeAll(async () => {
    fleet = await startFleet({ size: 3, lb: 'node' })
  })
  afterAll(async () => {
    if (!stopped) await fleet?.stop()
  })

  it('comes up with 3 hosts on 127.0.0.2-4 answering through the frontend', async () => {
    expect(fleet.lbKind).toBe('node')
    expect(fleet.targets.map((t) => t.address)).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4'])
    expect(new Set(fleet.targets.map((t) => t.port)).size).toBe(1)
    for (const host of fleet.hosts) {
      expect(host.version).toBe('v1')
      expect(host.pid).toBeTypeOf('number')
      expect(readdirSync(host.dir)).toEqual(expect.arrayContaining(['app.pid', 'current', 'releases']))
    }
    const backends = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const response = await fetch(fleet.url)
      expect(response.status).toBe(200)
      expect(await response.json()).toMatchObject({ version: 'v1' })
      backends.add(response.headers.get('x-backend') ?? '')
    }
    expect([...backends].sort()).toEqual(['host-1', 'host-2', 'host-3'])
    expect((await fleet.lb.discover(context())).map((t) => t.id)).toEqual(['host-1', 'host-2', 'host-3'])
  })

  it('rolls v1 to v2 one host at a time through the recipe', async () => {
    v2 = await fleet.publish('v2')
    const before = fleet.hosts.map((h) => h.pid)
    const result = await rolloutOn(fleet)
    expect(result.status, result.reason).toBe('succeeded')
    expect(result.targets.map((t) => t.outcome)).toEqual(['done', 'done', 'done'])
    for (const [i, host] of fleet.hosts.entries()) {
      expect(readlinkSync(join(host.dir, 'current'))).toBe('releases/v2')
      expect(readlinkSync(join(host.dir, 'previous'))).toBe('releases/v1')
      const answer = await status(host.target)
      expect(answer).toMatchObject({ code: 200, version: 'v2' })
      expect(answer.pid).not.toBe(before[i])
    }
    expect((await fleet.lb.discover(context())).map((t) => t.id)).toEqual(['host-1', 'host-2', 'host-3'])
  })

  it('restarts an app in well under a second (SIGTERM to the new process listening)', () => {
    const times: number[] = []
    for (const host of fleet.hosts) {
      const [old, next] = host.processes.slice(-2)
      if (old?.sigtermAt === undefined || next?.listeningAt === undefined) throw new Error(`no restart recorded on ${host.id}`)
      times.push(next.listeningAt - old.sigtermAt)
    }
    console.info(`[local-fleet] restart times (SIGTERM -> new process listening): ${times.map((t) => `${t} ms`).join(', ')}`)
    for (const time of times) expect(time).toBeLessThan(2000)
  })

  it('rolls back to the previous release', async () => {
    const host = fleet.hosts[0]
    if (!host) throw new Error('no host')
    const pid = host.pid
    await fleet.recipe.rollback?.(stepArgs(fleet, host.target, v2))
    expect(readlinkSync(join(host.dir, 'current'))).toBe('releases/v1')
    await waitUntil(async () => ((await status(host.target).catch(() => undefined))?.version === 'v1' ? { state: 'done', value: 1 } : { state: 'retry' }), {
      what: 'host-1 on v1',
      timeoutMs: 5000,
      minDelayMs: 50,
    })
    expect(host.pid).not.toBe(pid)
    // Idempotent: a second rollback of v2 (resume) neither switches nor restarts again.
    const rolledBack = host.pid
    await fleet.recipe.rollback?.(stepArgs(fleet, host.target, v2))
    expect(readlinkSync(join(host.dir, 'current'))).toBe('releases/v1')
    expect(host.pid).toBe(rolledBack)
    expect(await fleet.recipe.version?.(stepArgs(fleet, host.target, v2))).toMatchObject({ version: 'v1' })
  })

  it('halts and rolls back a broken build (onFailure: rollback)', async () => {
    await fleet.publish('v3', { statusCode: 500 })
    const result = await rolloutOn(fleet, { onFailure: 'rollback', settle: { interval: 100, successes: 2, deadline: 1500 } })
    expect(result.status).not.toBe('succeeded')
    const first = result.targets[0]
    expect(first?.outcome).toBe('rolled-back')
    expect(result.targets.slice(1).map((t) => t.outcome)).toEqual(['pending', 'pending'])
    expect(fleet.hosts.map((h) => h.version)).toEqual(['v1', 'v2', 'v2'])
    expect(await status(fleet.targets[0] ?? fleet.targets[1]!)).toMatchObject({ code: 200, version: 'v1' })
  })

  it('stop keeps an app down until the next deploy', async () => {
    const host = fleet.hosts[2]
    if (!host) throw new Error('no host')
    await fleet.recipe.stop?.(stepArgs(fleet, host.target, v2))
    expect(existsSync(join(host.dir, 'stopped'))).toBe(true)
    await systemClock.sleep(500)
    expect(host.pid).toBeUndefined()
    await expect(status(host.target)).rejects.toThrow()
    const location = await fleet.artifacts.locate(v2, host.target, context())
    await fleet.recipe.deploy({ ...stepArgs(fleet, host.target, v2), location })
    await waitUntil(async () => ((await status(host.target).catch(() => undefined))?.code === 200 ? { state: 'done', value: 1 } : { state: 'retry' }), {
      what: 'host-3 back',
      timeoutMs: 5000,
      minDelayMs: 50,
    })
    expect(existsSync(join(host.dir, 'stopped'))).toBe(false)
  })

  it('refuses a tarball whose sha256 does not match, before switching anything', async () => {
    const host = fleet.hosts[1]
    if (!host) throw new Error('no host')
    const v4 = await fleet.publish('v4')
    const location = await fleet.artifacts.locate(v4, host.target, context())
    if (location.kind !== 'path') throw new Error('expected a path')
    writeFileSync(location.path, 'tampered')
    const pid = host.pid
    const error = await fleet.recipe.deploy({ ...stepArgs(fleet, host.target, v4), location }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(String(error)).toContain('sha256 mismatch')
    expect(readlinkSync(join(host.dir, 'current'))).toBe('releases/v2')
    expect(existsSync(join(host.dir, 'releases', 'v4'))).toBe(false)
    expect(host.pid).toBe(pid)
  })

  it('keeps the last 3 releases', async () => {
    const host = fleet.hosts[1]
    if (!host) throw new Error('no host')
    for (const v of ['v5', 'v6', 'v7']) {
      const artifact = await fleet.publish(v)
      const location = await fleet.artifacts.locate(artifact, host.target, context())
      await fleet.recipe.deploy({ ...stepArgs(fleet, host.target, artifact), location })
    }
    expect(readdirSync(join(host.dir, 'releases')).sort()).toEqual(['v5', 'v6', 'v7'])
    expect(readlinkSync(join(host.dir, 'previous'))).toBe('releases/v6')
  })

  it('leaves no zombie or orphan app process after stop()', async () => {
    const pids = fleet.hosts.flatMap((h) => h.processes.map((p) => p.pid))
    expect(pids.length).toBeGreaterThan(6)
    await fleet.stop()
    stopped = true
    for (const pid of pids) expect(processState(pid), `pid ${pid}`).toBeUndefined()
    expect(processesMentioning(fleet.dir)).toEqual([])
    expect(existsSync(fleet.dir)).toBe(false)
  })
})

describe('startFleet options', () => {
  it("lb 'auto' picks HAProxy when it is installed, else the Node load balancer", async () => {
    const fleet = await startFleet({ size: 1 })
    try {
      expect(fleet.lbKind).toBe('module' in (await haproxyAvailable()) ? 'haproxy' : 'node')
      expect((await fetch(fleet.url)).status).toBe(200)
    } finally {
      await fleet.stop()
    }
  })

  it('rejects a bad size naming the option', async () => {
    await expect(startFleet({ size: 0 })).rejects.toThrow(/`size`/)
    await expect(startFleet({ size: 2, lb: 'nginx' as 'node' })).rejects.toBeInstanceOf(RollingError)
  })
})

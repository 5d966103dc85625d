// The AWS-shaped fixture on its own: the adapters it hands out reach the hosts through the
// fakes (ELBv2 discovers them as instances, SSM runs commands in the right host, S3 holds
// the first build as LATEST), and its data plane follows the fake ELBv2's target states.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitUntil } from '@org/rolling-core/adapter'
import { startAwsFleet, type AwsFleet } from '../src/aws.js'
import { startDataPlane } from '../src/data-plane.js'
import { context, processState } from './support.js'

describe('startAwsFleet', () => {
  let fleet: AwsFleet
  beforeAll(async () => {
    fleet = await startAwsFleet({ size: 3 })
  })
  afterAll(async () => {
    await fleet?.stop()
  })

  const get = async (path = '') => {
    const response = await fetch(`${fleet.url}${path}`)
    await response.arrayBuffer()
    return { status: response.status, backend: response.headers.get('x-backend') }
  }
  const stateOf = (i: number) => {
    const host = fleet.hosts[i]
    if (!host) throw new Error(`no host ${i}`)
    return fleet.fakes.elbv2.state(fleet.targetGroup.name, host.instanceId, host.target.port)
  }

  it('hands out adapters that reach the hosts through the fakes', async () => {
    const targets = await fleet.loadBalancer.discover(context())
    expect(targets.map((t) => t.address).sort()).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4'])
    expect(targets.map((t) => t.labels?.targetId).sort()).toEqual(fleet.hosts.map((h) => h.instanceId).sort())
    expect(targets.every((t) => t.id === `${fleet.targetGroup.name}/${t.labels?.targetId}:${t.port}`)).toBe(true)
    // SSM runs each command in the folder of the host behind that instance id; the same
    // command to the three instances at once is one SendCommand.
    const results = await Promise.all(targets.map((target) => fleet.executor.run(target, 'pwd && cat current/release.json', context())))
    for (const [i, target] of targets.entries()) {
      const host = fleet.hosts.find((h) => h.instanceId === target.labels?.targetId)
      expect(results[i]?.stdout.split('\n')[0]).toBe(host?.dir)
      expect(results[i]?.stdout).toContain('"version": "v1"')
      expect((await fleet.healthCheck.check(target, context())).ok).toBe(true)
    }
    // The first build is in S3 and is LATEST.
    const latest = await fleet.artifacts.resolve(fleet.service, 'latest', context())
    expect(latest.version).toBe('v1')
    expect(JSON.parse(readFileSync(join(fleet.hosts[0]?.dir ?? '', 'current', 'release.json'), 'utf8'))).toMatchObject({ builtAt: latest.builtAt })
    expect(fleet.fakes.elbv2.count('DescribeTargetHealth')).toBeGreaterThan(0)
    expect(fleet.fakes.ssm.count('SendCommand')).toBe(1)
  })

  it('routes traffic only to targets the fake ELBv2 reports healthy, letting in-flight requests finish', async () => {
    const seen = new Set<string | null>()
    for (let i = 0; i < 6; i++) seen.add((await get()).backend)
    expect([...seen].sort()).toEqual(['host-1', 'host-2', 'host-3'])

    const host = fleet.hosts[0]
    if (!host) throw new Error('no host')
    // Round robin spreads three concurrent requests over the three hosts: one stays in flight on host-1.
    const slow = Array.from({ length: 3 }, () => get('slow?ms=800'))
    await waitUntil(
      async () => ((await fleet.dataPlane.stats()).find((b) => b.id === 'host-1')?.inflight === 1 ? { state: 'done', value: true } : { state: 'retry' }),
      {
        what: 'a slow request in flight on host-1',
        timeoutMs: 2000,
        minDelayMs: 5,
      },
    )
    fleet.fakes.elbv2.deregister(fleet.targetGroup.name, [{ id: host.instanceId, port: host.target.port }])
    expect(stateOf(0)).toBe('draining')
    await waitUntil(
      async () => ((await fleet.dataPlane.stats()).find((b) => b.id === 'host-1')?.inService ? { state: 'retry' } : { state: 'done', value: true }),
      {
        what: 'the data plane to drop host-1',
        timeoutMs: 2000,
        minDelayMs: 5,
        maxDelayMs: 20,
      },
    )
    for (let i = 0; i < 6; i++) expect((await get()).backend).not.toBe('host-1')
    expect((await Promise.all(slow)).map((r) => `${r.status} ${r.backend}`).sort()).toEqual(['200 host-1', '200 host-2', '200 host-3'])

    // Registered again: `initial` until the fake's health checks pass, and no traffic until then.
    fleet.fakes.elbv2.register(fleet.targetGroup.name, [{ id: host.instanceId, port: host.target.port }])
    expect(stateOf(0)).toBe('initial')
    expect((await get()).backend).not.toBe('host-1')
    await waitUntil(() => (stateOf(0) === 'healthy' ? { state: 'done', value: true } : { state: 'retry', observed: stateOf(0) }), {
      what: 'host-1 to turn healthy',
      timeoutMs: 5000,
      minDelayMs: 20,
    })
    await waitUntil(
      async () => {
        for (let i = 0; i < 3; i++) if ((await get()).backend === 'host-1') return { state: 'done', value: true }
        return { state: 'retry' }
      },
      { what: 'the data plane to route to host-1 again', timeoutMs: 2000, minDelayMs: 10 },
    )
  })

  it('throttles ELBv2 and SSM together, and refuses a rate outside 0..1', async () => {
    fleet.throttle(0.5)
    expect(fleet.fakes.elbv2.throttleRate).toBe(0.5)
    expect(fleet.fakes.ssm.throttleRate).toBe(0.5)
    fleet.throttle(0)
    expect(() => fleet.throttle(1.5)).toThrow(/`throttleRate`: expected a number from 0 to 1, got 1.5/)
    await expect(startAwsFleet({ throttleRate: -0.1 })).rejects.toThrow(/`throttleRate`: expected a number from 0 to 1, got -0.1/)
    await expect(startAwsFleet({ size: 0 })).rejects.toThrow(/`size`: expected an integer from 1 to 250, got 0/)
  })

  it('stop() ends the data plane process and the hosts', async () => {
    const pids = [fleet.dataPlane.pid, ...fleet.hosts.map((h) => h.pid ?? -1)]
    await fleet.stop()
    for (const pid of pids) expect([undefined, 'Z']).toContain(processState(pid))
  })
})

describe('startDataPlane', () => {
  it('refuses bad options, naming them', async () => {
    const targets = [{ id: 'a', address: '127.0.0.2', port: 9 }]
    await expect(startDataPlane({ targets: [], membership: () => true })).rejects.toThrow(/`targets`: expected at least one backend/)
    await expect(startDataPlane({ targets, membership: undefined as never })).rejects.toThrow(/`membership`: expected a function, got undefined/)
    await expect(startDataPlane({ targets, membership: () => true, syncMs: 0 })).rejects.toThrow(
      /`syncMs`: expected a finite number of milliseconds >= 1, got 0/,
    )
  })
})

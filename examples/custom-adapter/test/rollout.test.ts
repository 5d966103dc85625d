// Rollouts through the custom adapter: real tinylb, real apps and the default HTTP health
// check, with in-memory builds and executor. What a user of the adapter relies on: no
// request fails, one host out at a time, and a broken build stays out of the load balancer.
import { memoryJournal, memoryLock, rollout, systemClock } from '@org/rolling-core'
import { silentLogger } from '@org/rolling-core/testing'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { tinyLbLoadBalancer } from '../src/adapter.js'
import { startExampleFleet, type ExampleFleet } from '../src/fleet.js'

let fleet: ExampleFleet
beforeEach(async () => {
  fleet = await startExampleFleet({ size: 3, checkIntervalMs: 50 })
})
afterEach(async () => {
  await fleet.close()
})

const options = () => ({
  service: fleet.service,
  loadBalancer: tinyLbLoadBalancer({ adminUrl: fleet.tinylb.adminUrl, drainTimeoutMs: 5000, attachTimeoutMs: 5000 }),
  artifacts: fleet.artifacts,
  executor: fleet.executor,
  deploy: fleet.deploy,
  batch: 1,
  settle: { interval: 50, successes: 2, deadline: 1500 },
  journal: memoryJournal(),
  lock: memoryLock(),
})

/** Samples tinylb's own view every 10 ms: the most backends ever out of service at once. */
function watchOutOfService() {
  let max = 0
  const timer = setInterval(() => {
    max = Math.max(max, fleet.tinylb.backends().filter((b) => b.state !== 'active' || !b.healthy).length)
  }, 10)
  return () => {
    clearInterval(timer)
    return max
  }
}

it('rolls v1 to v2 one host at a time under traffic with no failed request', async () => {
  fleet.artifacts.publish(fleet.service, 'v2', 'web v2\n')
  const traffic = fleet.traffic(4)
  const stopWatching = watchOutOfService()
  const result = await rollout(options())
  const maxOut = stopWatching()
  const counts = await traffic.stop()

  expect(result.status).toBe('succeeded')
  expect(result.targets.map((t) => [t.target.id, t.outcome, t.version])).toEqual([
    ['web-1', 'done', 'v2'],
    ['web-2', 'done', 'v2'],
    ['web-3', 'done', 'v2'],
  ])
  expect(fleet.apps.map((a) => a.version)).toEqual(['v2', 'v2', 'v2'])
  expect(counts.failed, counts.errors.slice(0, 3).join('; ')).toBe(0)
  expect(counts.ok).toBeGreaterThan(20)
  expect(maxOut).toBe(1)
  // Traffic reached the new build on every host once it was attached.
  for (const app of fleet.apps) expect(app.served.get('v2') ?? 0, app.id).toBeGreaterThan(0)
  const inService = await options().loadBalancer.discover({ signal: new AbortController().signal, clock: systemClock, log: silentLogger })
  expect(inService.map((t) => t.id)).toEqual(['web-1', 'web-2', 'web-3'])
})

it('a broken build halts the rollout and stays out of tinylb, without a failed request', async () => {
  fleet.artifacts.publish(fleet.service, 'v2', 'web v2\n')
  fleet.breakOnDeploy.add('web-2')
  const traffic = fleet.traffic(4)
  const result = await rollout(options())
  const counts = await traffic.stop()

  expect(result.status).toBe('halted')
  expect(result.reason).toContain('web-2')
  expect(result.targets.map((t) => [t.target.id, t.outcome])).toEqual([
    ['web-1', 'done'],
    ['web-2', 'failed'],
    ['web-3', 'pending'],
  ])
  expect(result.needsAttention.map((t) => t.id)).toEqual(['web-2'])
  expect(fleet.tinylb.backends().find((b) => b.id === 'web-2')).toMatchObject({ state: 'draining', active: 0 })
  expect(fleet.apps.map((a) => a.version)).toEqual(['v2', 'v2', 'v1'])
  expect(fleet.apps[1]?.served.get('v2') ?? 0).toBe(0) // the broken build never got a request
  expect(counts.failed, counts.errors.slice(0, 3).join('; ')).toBe(0)
})

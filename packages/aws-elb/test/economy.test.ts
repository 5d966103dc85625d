// API economy of a whole rollout: N = 100 targets in batches of 10 through the engine. Each
// batch makes exactly one DeregisterTargets and one RegisterTargets per target group, and the
// Describe calls grow with the number of polls, not with N. Prints the table of calls.
import { memoryJournal, memoryLock, rollout } from '@org/rolling-core'
import { memoryArtifacts, memoryExecutor, memoryHealthCheck } from '@org/rolling-core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFixture, type Fixture } from './support.js'

const N = 100
const BATCH = 10

describe(`a rollout of ${N} targets in batches of ${BATCH}`, () => {
  let f: Fixture
  beforeAll(async () => {
    f = await startFixture({ targets: N, firstHost: 2, deregistrationDelayMs: 100, healthCheck: { intervalMs: 50, healthyThreshold: 2 } })
  }, 60_000)
  afterAll(() => f.stop())

  it('makes one Deregister and one Register per batch, and Describe calls bounded by polls', async () => {
    const artifacts = memoryArtifacts()
    artifacts.publish('web', 'v2', 'build v2')
    f.aws.resetCalls()
    const started = performance.now()
    const result = await rollout({
      service: 'web',
      loadBalancer: f.lb({ pollMs: 50 }),
      artifacts,
      // The hosts are the fake's HTTP targets: deploying to them is not what is measured here.
      executor: memoryExecutor({ handler: () => ({ exitCode: 0 }) }),
      healthCheck: memoryHealthCheck({ respond: () => ({ ok: true, status: 200, version: 'v2' }) }),
      deploy: () => ['install v2'],
      batch: BATCH,
      settle: { delay: 0 },
      journal: memoryJournal(),
      lock: memoryLock(),
    })
    const wallMs = Math.round(performance.now() - started)
    expect(result.status, result.reason).toBe('succeeded')
    expect(result.targets.filter((r) => r.outcome === 'done')).toHaveLength(N)

    const batches = N / BATCH
    const counts = Object.fromEntries(
      ['DescribeTargetGroups', 'DescribeTargetGroupAttributes', 'DescribeTargetHealth', 'DeregisterTargets', 'RegisterTargets', 'DescribeInstances'].map((a) => [
        a,
        f.aws.count(a),
      ]),
    )
    expect(counts.DeregisterTargets).toBe(batches)
    expect(counts.RegisterTargets).toBe(batches)
    expect(counts.DescribeTargetGroups).toBe(1)
    expect(counts.DescribeTargetGroupAttributes).toBe(1)
    // Discover twice (start and verify) + per batch: one state check and a few drain polls,
    // a few attach polls. Far below one call per target (N = 100).
    expect(counts.DescribeTargetHealth).toBeLessThanOrEqual(2 + batches * 12)
    for (const call of f.aws.calls.filter((c) => c.action === 'DeregisterTargets' || c.action === 'RegisterTargets')) {
      expect(call.params[`Targets.member.${BATCH}.Id`]).toBeDefined()
    }
    console.info(`[aws-elb] rollout of ${N} targets in ${batches} batches of ${BATCH}, 1 target group, in ${wallMs} ms (100 ms deregistration delay):`)
    for (const [action, count] of Object.entries(counts)) console.info(`[aws-elb]   ${action.padEnd(30)} ${count}`)
  }, 120_000)
})

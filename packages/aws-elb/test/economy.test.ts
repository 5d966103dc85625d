// API economy of a whole rollout: N = 100 targets in batches of 10 through the engine. Each
// batch makes exactly one DeregisterTargets and one RegisterTargets per target group, and the
// Describe calls grow with the number of polls, not with N. Prints the table of calls: in
// real time with short delays, and in simulated time with AWS's default delays.
import { memoryJournal, memoryLock, rollout, type Phase, type RolloutResult } from '@org/rolling-core'
import { memoryArtifacts, memoryExecutor, memoryHealthCheck } from '@org/rolling-core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AWS_DEREGISTRATION_DELAY_MS,
  AWS_HEALTH_CHECK,
  DEPLOY_MS,
  batchTimes,
  maxChecks,
  simulatedRollout,
  startSimulatedFleet,
  type SimulatedFleet,
} from './simulated.js'
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
    // Each target answers v1 until it is deployed (else the engine skips it as already on v2).
    const deployed = new Set<string>()
    const started = performance.now()
    const result = await rollout({
      service: 'web',
      loadBalancer: f.lb({ pollMs: 50 }),
      artifacts,
      // The hosts are the fake's HTTP targets: deploying to them is not what is measured here.
      executor: memoryExecutor({
        handler: (target) => {
          deployed.add(target.id)
          return { exitCode: 0 }
        },
      }),
      healthCheck: memoryHealthCheck({ respond: (t) => ({ ok: true, status: 200, version: deployed.has(t.id) ? 'v2' : 'v1' }) }),
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
      ['DescribeTargetGroups', 'DescribeTargetGroupAttributes', 'DescribeTargetHealth', 'DeregisterTargets', 'RegisterTargets', 'DescribeInstances'].map(
        (a) => [a, f.aws.count(a)],
      ),
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

const ACTIONS = [
  'DescribeTargetGroups',
  'DescribeTargetGroupAttributes',
  'DescribeTargetHealth',
  'DeregisterTargets',
  'RegisterTargets',
  'DescribeInstances',
] as const
// The adapter's defaults (pollMs 5000): drain polls grow 1.5x from 5 s to 20 s, attach polls every 5 s.
const DRAIN_POLLS = { min: 5_000, max: 20_000 }
const ATTACH_POLLS = { min: 5_000, max: 5_000 }

interface Measured {
  n: number
  batch: number
  groups: number
  counts: Record<(typeof ACTIONS)[number], number>
  /** DescribeTargetHealth calls the poll schedule allows in the simulated durations. */
  bound: number
  result: RolloutResult
  realMs: number
}

/** Rolls `n` targets over `groups` in batches of `batch`, on AWS's default timings in simulated time. */
async function measure(n: number, batch: number, groups?: string[]): Promise<Measured> {
  const fleet: SimulatedFleet = await startSimulatedFleet({ targets: n, ...(groups ? { groups } : {}) })
  try {
    const { result, realMs } = await simulatedRollout(fleet, batch)
    expect(result.status, result.reason).toBe('succeeded')
    expect(result.targets.filter((r) => r.outcome === 'done')).toHaveLength(n)
    const counts = Object.fromEntries(ACTIONS.map((a) => [a, fleet.aws.count(a)])) as Measured['counts']
    // Each mutating call names exactly the batch's targets of one group, each target once.
    for (const action of ['DeregisterTargets', 'RegisterTargets']) {
      const named = fleet.aws.calls
        .filter((c) => c.action === action)
        .flatMap((c) =>
          Object.keys(c.params)
            .filter((k) => /^Targets\.member\.\d+\.Id$/.test(k))
            .map((k) => `${c.params.TargetGroupArn}|${c.params[k]}`),
        )
      expect(new Set(named).size, action).toBe(n)
      expect(named, action).toHaveLength(n)
    }
    // Discover at the start and in verify: one call per group each. Per batch and per
    // group: one state check, the drain polls, the attach polls, each bounded by time.
    let bound = 2 * fleet.groups.length
    for (const b of batchTimes(result)) {
      bound += b.groups * (1 + maxChecks(b.phases.detach ?? 0, DRAIN_POLLS) + maxChecks(b.phases.attach ?? 0, ATTACH_POLLS))
    }
    return { n, batch, groups: fleet.groups.length, counts, bound, result, realMs }
  } finally {
    await fleet.close()
  }
}

function print(m: Measured): void {
  const batches = batchTimes(m.result)
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const lines = [
    `rollout of ${m.n} targets in ${batches.length} batches of ${m.batch}, ${m.groups} target group(s), simulated AWS defaults ` +
      `(deregistration delay ${AWS_DEREGISTRATION_DELAY_MS / 1000} s, checks every ${AWS_HEALTH_CHECK.intervalMs / 1000} s, healthy after ${AWS_HEALTH_CHECK.healthyThreshold}, settle 60 s, deploy ${DEPLOY_MS / 1000} s):`,
    ...ACTIONS.map(
      (a) => `  ${a.padEnd(30)} ${String(m.counts[a]).padStart(5)}${a === 'DescribeTargetHealth' ? `   (bound from the poll schedule: ${m.bound})` : ''}`,
    ),
    `  ${'phase'.padEnd(30)} simulated, summed over batches (slowest target of each)`,
  ]
  const phases: Phase[] = ['precheck', 'detach', 'deploy', 'settle', 'attach']
  let inBatches = 0
  for (const phase of phases) {
    const ms = batches.reduce((sum, b) => sum + (b.phases[phase] ?? 0), 0)
    inBatches += ms
    lines.push(`  ${phase.padEnd(30)} ${s(ms).padStart(9)}   (${s(ms / batches.length)} per batch)`)
  }
  lines.push(`  ${'discover, verify, other'.padEnd(30)} ${s(m.result.durationMs - inBatches).padStart(9)}`)
  lines.push(`  ${'total simulated'.padEnd(30)} ${s(m.result.durationMs).padStart(9)}   (${(m.result.durationMs / 60_000).toFixed(1)} min)`)
  lines.push(`  ${'real time'.padEnd(30)} ${`${m.realMs} ms`.padStart(9)}`)
  for (const line of lines) console.info(`[aws-elb] ${line}`)
}

describe('API economy in simulated time with AWS default timings', () => {
  let single: Measured | undefined

  it(`${N} targets in batches of ${BATCH}, one target group: one Deregister and one Register per batch`, async () => {
    const m = await measure(N, BATCH)
    single = m
    print(m)
    const batches = N / BATCH
    expect(m.counts.DeregisterTargets).toBe(batches)
    expect(m.counts.RegisterTargets).toBe(batches)
    expect(m.counts.DescribeTargetGroups).toBe(1)
    expect(m.counts.DescribeTargetGroupAttributes).toBe(1)
    expect(m.counts.DescribeInstances).toBe(0)
    expect(m.counts.DescribeTargetHealth).toBeLessThanOrEqual(m.bound)
    // The simulated durations are AWS's: a full deregistration delay per batch, a newly
    // registered target healthy after its first passing check (checks 30 s apart; ALB needs one
    // pass for a new target, `healthyThreshold` only for an unhealthy one), the engine's 60 s settle.
    for (const b of batchTimes(m.result)) {
      expect(b.phases.detach).toBeGreaterThanOrEqual(AWS_DEREGISTRATION_DELAY_MS)
      expect(b.phases.attach).toBeGreaterThanOrEqual(AWS_HEALTH_CHECK.intervalMs)
      expect(b.phases.attach).toBeLessThan(2 * AWS_HEALTH_CHECK.intervalMs)
      expect(b.phases.settle).toBeGreaterThanOrEqual(60_000)
    }
    expect(m.realMs).toBeLessThan(m.result.durationMs / 20)
  }, 120_000)

  it(`${N} targets over two target groups of ${N / 2}: one Deregister and one Register per batch per group`, async () => {
    const m = await measure(N, BATCH, ['blue', 'green'])
    print(m)
    const spans = batchTimes(m.result).map((b) => b.groups)
    // Discover interleaves the groups, so every batch takes targets out of both.
    expect(spans).toEqual(Array.from({ length: N / BATCH }, () => 2))
    expect(m.counts.DeregisterTargets).toBe(2 * (N / BATCH))
    expect(m.counts.RegisterTargets).toBe(2 * (N / BATCH))
    expect(m.counts.DescribeTargetGroups).toBe(1)
    expect(m.counts.DescribeTargetGroupAttributes).toBe(2)
    expect(m.counts.DescribeTargetHealth).toBeLessThanOrEqual(m.bound)
  }, 120_000)

  it(`doubling N to ${2 * N} with the same number of batches leaves DescribeTargetHealth about the same`, async () => {
    single ??= await measure(N, BATCH)
    const doubled = await measure(2 * N, 2 * BATCH)
    print(doubled)
    expect(doubled.counts.DeregisterTargets).toBe(single.counts.DeregisterTargets)
    expect(doubled.counts.RegisterTargets).toBe(single.counts.RegisterTargets)
    expect(doubled.counts.DescribeTargetHealth).toBeLessThanOrEqual(doubled.bound)
    // Only the jitter of the poll delays differs between the runs.
    expect(Math.abs(doubled.counts.DescribeTargetHealth - single.counts.DescribeTargetHealth)).toBeLessThanOrEqual(0.1 * single.counts.DescribeTargetHealth)
  }, 240_000)
})

// A simulated AWS fleet: the fake ELBv2/EC2 endpoint on a FakeClock with AWS's default
// timings (300 s deregistration delay, ALB health checks every 30 s, 5 to turn healthy,
// 2 to turn unhealthy), reached by the real SDK clients. Minutes of drains and checks
// pass in no real time; the clock holds still while an API call is in flight.
import { EC2Client } from '@aws-sdk/client-ec2'
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { memoryJournal, memoryLock, rollout, type Phase, type RolloutResult } from '@org/rolling-core'
import { FakeClock, memoryArtifacts, memoryExecutor, memoryHealthCheck } from '@org/rolling-core/testing'
import { elbv2LoadBalancer, type Elbv2LoadBalancer, type Elbv2LoadBalancerOptions } from '../src/index.js'
import { startFakeAws, type FakeAws, type FakeProbe } from './fake-aws.js'

/** ALB defaults for a new target group. */
export const AWS_HEALTH_CHECK = { intervalMs: 30_000, timeoutMs: 5_000, healthyThreshold: 5, unhealthyThreshold: 2 }
/** `deregistration_delay.timeout_seconds` default. */
export const AWS_DEREGISTRATION_DELAY_MS = 300_000
/** Simulated time the deploy step takes on each host. */
export const DEPLOY_MS = 20_000

export interface SimulatedFleet {
  aws: FakeAws
  clock: FakeClock
  groups: string[]
  /** The adapter with its default settings, over clients whose calls hold the clock. */
  lb(options?: Partial<Elbv2LoadBalancerOptions>): Elbv2LoadBalancer
  close(): Promise<void>
}

/** `targets` ip targets spread round-robin over `groups`, registered healthy. */
export async function startSimulatedFleet(options: {
  targets: number
  groups?: string[]
  targetType?: 'ip' | 'instance'
  probe?: FakeProbe
}): Promise<SimulatedFleet> {
  let aws: FakeAws | undefined
  const clock = new FakeClock({ busy: () => (aws?.inFlight ?? 0) > 0 })
  // The hosts exist only in memory: health checks pass unless `probe` says otherwise. Their
  // 10.0.x.y addresses are never dialled (the probe is a function; the engine's checks are in memory).
  aws = await startFakeAws({ clock, probe: options.probe ?? (() => true), healthCheck: AWS_HEALTH_CHECK })
  const fake = aws
  const groups = options.groups ?? ['web']
  for (const name of groups)
    fake.addTargetGroup({ name, port: 8080, targetType: options.targetType ?? 'ip', deregistrationDelayMs: AWS_DEREGISTRATION_DELAY_MS })
  for (let i = 0; i < options.targets; i++) {
    const ip = `10.0.${i >> 8}.${(i & 255) + 1}`
    const id = options.targetType === 'instance' ? fake.addInstance(ip, `i-0${i.toString(16).padStart(16, '0')}`) : ip
    fake.register(groups[i % groups.length] as string, [{ id, port: 8080 }], { healthy: true })
  }
  const client = fake.track(new ElasticLoadBalancingV2Client({ ...fake.clientConfig, maxAttempts: 1 }))
  const ec2Client = fake.track(new EC2Client({ ...fake.clientConfig, maxAttempts: 1 }))
  return {
    aws: fake,
    clock,
    groups,
    lb: (o) => elbv2LoadBalancer({ targetGroups: groups, client, ec2Client, ...o }),
    close: async () => {
      client.destroy()
      ec2Client.destroy()
      await fake.close()
    },
  }
}

/** Rolls v1 → v2 over the fleet through the engine with its defaults (60 s settle) on the fleet's clock. */
export async function simulatedRollout(fleet: SimulatedFleet, batch: number): Promise<{ result: RolloutResult; realMs: number }> {
  const versions = new Map<string, string>()
  const artifacts = memoryArtifacts({ clock: fleet.clock })
  artifacts.publish('web', 'v2', 'build v2')
  const lb = fleet.lb()
  const started = performance.now()
  try {
    const result = await rollout({
      service: 'web',
      loadBalancer: lb,
      artifacts,
      executor: memoryExecutor({
        latencyMs: DEPLOY_MS,
        handler: (target) => {
          versions.set(target.id, 'v2')
          return { exitCode: 0 }
        },
      }),
      healthCheck: memoryHealthCheck({ respond: (target) => ({ ok: true, status: 200, version: versions.get(target.id) ?? 'v1' }) }),
      deploy: () => ['install v2'],
      batch,
      journal: memoryJournal(),
      lock: memoryLock(),
      clock: fleet.clock,
    })
    return { result, realMs: Math.round(performance.now() - started) }
  } finally {
    lb.destroy()
  }
}

/**
 * The most checks `waitUntil` can make in `ms`: one at once, then one after each sleep,
 * where a sleep is at least (1 - jitter) of its delay and delays grow by `factor` to `max`.
 */
export function maxChecks(ms: number, schedule: { min: number; max: number; factor?: number; jitter?: number }): number {
  const { min, max, factor = 1.5, jitter = 0.2 } = schedule
  let checks = 1
  for (let t = 0, delay = min; ; delay = Math.min(max, delay * factor)) {
    t += delay * (1 - jitter)
    if (t > ms) return checks
    checks++
  }
}

export interface BatchTimes {
  /** Target groups the batch spans. */
  groups: number
  /** Simulated ms per phase: the slowest target of the batch (its targets run concurrently). */
  phases: Partial<Record<Phase, number>>
}

/** Per batch of a rollout result: groups touched and the time each phase took. */
export function batchTimes(result: RolloutResult): BatchTimes[] {
  const batches: BatchTimes[] = []
  const seen: Set<string>[] = []
  for (const report of result.targets) {
    if (report.batch < 0) continue
    const b = batches[report.batch] ?? { groups: 0, phases: {} }
    const groups = seen[report.batch] ?? new Set()
    batches[report.batch] = b
    seen[report.batch] = groups
    groups.add(report.target.labels?.targetGroup ?? '')
    b.groups = groups.size
    for (const [phase, ms] of Object.entries(report.timings) as [Phase, number][]) b.phases[phase] = Math.max(b.phases[phase] ?? 0, ms)
  }
  return batches
}

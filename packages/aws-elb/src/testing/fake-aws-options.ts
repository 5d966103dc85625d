// The fake ELBv2 + EC2 endpoint's own API: its options, what a test can set and read on it,
// and the calls it records. The behaviour is in fake-aws.ts.
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { Clock } from '@org/rolling-core'
import type { FakeProbeResult } from './http-targets.js'

export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'draining'

export interface FakeHealthCheck {
  /** @default '/_status' */
  path?: string
  /** Time between checks of one target. @default 50 */
  intervalMs?: number
  /** Per-check timeout. @default 500 */
  timeoutMs?: number
  /** Consecutive passes for an unhealthy target to turn healthy (a newly registered one needs one, as on ALB). @default 2 */
  healthyThreshold?: number
  /** Consecutive failures to turn unhealthy. @default 2 */
  unhealthyThreshold?: number
}

export interface FakeTargetGroupOptions {
  name: string
  /** @default 'ip' */
  targetType?: 'ip' | 'instance' | 'lambda'
  /** @default 80 */
  port?: number
  /** Reported as `deregistration_delay.timeout_seconds` (fractional below 1 s). @default 300 */
  deregistrationDelayMs?: number
  /**
   * As real ELB does, a deregistering target with no connection left (see `hold`) stops
   * draining at once instead of at the end of the delay. Off by default, so a drain without
   * held connections lasts the whole delay and tests can observe `draining`. @default false
   */
  drainEndsWhenIdle?: boolean
  healthCheck?: FakeHealthCheck
}

export interface FakeCall {
  action: string
  params: Record<string, string>
  /** The error code returned instead of a result (`Throttling`, `TargetGroupNotFound`, ...). */
  error?: string
  /** Epoch ms on the fake's clock when the call arrived. */
  at: number
}

/** Stands in for the HTTP health check of one target: `true`/`ok` passes. */
export type FakeProbe = (address: string, port: number) => boolean | FakeProbeResult | Promise<boolean | FakeProbeResult>

export interface FakeAwsOptions {
  /** Loopback address to listen on. @default '127.0.0.1' */
  host?: string
  /** Share of calls answered with a throttling error (0..1). @default 0 */
  throttleRate?: number
  /** Random source for throttling. @default Math.random */
  random?: () => number
  /** Defaults for every group's health check. */
  healthCheck?: FakeHealthCheck
  /**
   * Clock of the health-check and drain timers and of `FakeCall.at`. A `FakeClock` runs
   * 30 s checks and 300 s drains in no real time; hold it while `inFlight > 0`.
   * @default systemClock
   */
  clock?: Clock
  /**
   * Replaces the HTTP health check (`GET path` on the target) for simulated fleets.
   * @default a real HTTP GET of the group's health-check path, 200 passes
   */
  probe?: FakeProbe
}

export interface FakeAws {
  /** `http://127.0.0.1:<port>`: give it as `endpoint` to both SDK clients. */
  readonly endpoint: string
  /** Ready-made client config: endpoint, us-east-1, fake credentials. */
  readonly clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } }
  readonly calls: FakeCall[]
  /**
   * Work in progress right now: requests being answered, health checks being made, and
   * calls of `track`ed clients awaiting their answer. A fake clock must not jump while > 0.
   */
  readonly inFlight: number
  /** Counts the client's calls in `inFlight` from send to answer (an SDK middleware); returns the client. */
  track<C extends ElasticLoadBalancingV2Client | EC2Client>(client: C): C
  /** Calls of `action` (all of them when omitted), throttled ones included unless `succeeded`. */
  count(action?: string, options?: { succeeded?: boolean }): number
  resetCalls(): void
  throttleRate: number
  addTargetGroup(options: FakeTargetGroupOptions): { arn: string; name: string }
  /** `zone`: the instance's Availability Zone in DescribeInstances. */
  addInstance(privateIp: string, instanceId?: string, zone?: string): string
  /** Sets the Availability Zone DescribeTargetHealth reports for an IP target. */
  setZone(ip: string, zone: string): void
  /** Registers directly (no API call); `healthy: true` skips the initial checks. */
  register(group: string, targets: readonly { id: string; port?: number }[], options?: { healthy?: boolean }): void
  /** Puts a registered target into `draining` directly, as if deregistered by someone else. */
  deregister(group: string, targets: readonly { id: string; port?: number }[]): void
  state(group: string, id: string, port?: number): TargetState | 'unused'
  /**
   * A connection through the load balancer to the target, open until `release()` (a client
   * holding a streaming response): while it is open the target stays `draining` until the
   * deregistration delay ends; the delay's end closes it, as ELB does.
   */
  hold(group: string, id: string, port?: number): { release(): void; readonly open: boolean }
  /** Open connections to the target (see `hold`). */
  connections(group: string, id: string, port?: number): number
  close(): Promise<void>
}

